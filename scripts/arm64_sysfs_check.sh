#!/usr/bin/env bash
# Does the pinned onnxruntime import and serve on aarch64 where /sys/devices/system/cpu has no
# `possible` / `present` lists, as on Lambda arm64 (onnxruntime #10038, #15650, cpuinfo #143)?
#
# Runs the aarch64 onnxruntime wheel under qemu-user in a mount namespace that hides the CPU
# sysfs directory (and shows a Graviton2 /proc/cpuinfo, as Lambda does), loads the iris model
# and predicts two rows. Pass an older version (e.g. 1.23.2) as $1 to see the original abort.
# Needs root on Debian/Ubuntu (apt for qemu-user-static and arm64 libc/python debs, unshare).
# Python is Debian's aarch64 3.11 (Lambda runs 3.12: the native library is the same build).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
ORT_VERSION=${1:-$(sed -n 's/^onnxruntime==//p' "$ROOT/layers/runtime/requirements.txt")}
WORK=${WORK:-/tmp/lambdaserve-arm64}
SYSROOT=$WORK/root
SITE=$WORK/site-$ORT_VERSION

if [ ! -x "$SYSROOT/usr/bin/python3.11" ]; then
  apt-get install -y -qq qemu-user-static >/dev/null
  dpkg --add-architecture arm64
  apt-get update -qq
  mkdir -p "$WORK/debs" "$SYSROOT"
  (cd "$WORK/debs" && apt-get download -qq libc6:arm64 libgcc-s1:arm64 libstdc++6:arm64 \
    python3.11-minimal:arm64 libpython3.11-minimal:arm64 libpython3.11-stdlib:arm64 \
    zlib1g:arm64 libexpat1:arm64 libffi8:arm64 libssl3:arm64 libbz2-1.0:arm64 liblzma5:arm64 \
    libcrypt1:arm64 libuuid1:arm64 libgomp1:arm64)
  for deb in "$WORK"/debs/*.deb; do dpkg-deb -x "$deb" "$SYSROOT"; done
fi
if [ ! -d "$SITE/onnxruntime" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-compile --only-binary=:all: \
    --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64 \
    --platform manylinux2014_aarch64 --python-version 3.11 --implementation cp \
    --target "$SITE" "onnxruntime==$ORT_VERSION" numpy
fi

mkdir -p "$WORK/no-cpu-sysfs"
cpu='BogoMIPS	: 243.75
Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs
CPU implementer	: 0x41
CPU architecture: 8
CPU variant	: 0x3
CPU part	: 0xd0c
CPU revision	: 1'
printf 'processor\t: 0\n%s\n\nprocessor\t: 1\n%s\n\n' "$cpu" "$cpu" >"$WORK/cpuinfo"
cp "$ROOT/layers/models/iris/1/model.onnx" "$WORK/iris.onnx"
cat >"$WORK/probe.py" <<'EOF'
import os, platform, sys
print("machine", platform.machine(), "| cpu lists present:",
      os.path.exists("/sys/devices/system/cpu/possible"), flush=True)
import numpy as np
import onnxruntime as ort
options = ort.SessionOptions()
options.intra_op_num_threads = options.inter_op_num_threads = 1
session = ort.InferenceSession(sys.argv[1], options, providers=["CPUExecutionProvider"])
rows = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
labels = session.run(["label"], {"input": rows})[0].tolist()
print("onnxruntime", ort.__version__, "predicted", labels, flush=True)
sys.exit(0 if labels == [0, 2] else 1)
EOF

set +e
unshare -m sh -c "mount --bind '$WORK/cpuinfo' /proc/cpuinfo &&
  mount --bind '$WORK/no-cpu-sysfs' /sys/devices/system/cpu &&
  PYTHONPATH='$SITE' qemu-aarch64-static -cpu neoverse-n1 -L '$SYSROOT' \
    '$SYSROOT/usr/bin/python3.11' '$WORK/probe.py' '$WORK/iris.onnx'"
status=$?
set -e
if [ $status -eq 0 ]; then
  echo "onnxruntime $ORT_VERSION: imports and predicts on aarch64 without CPU sysfs lists"
else
  echo "onnxruntime $ORT_VERSION: FAILED on aarch64 without CPU sysfs lists (exit $status)"
fi
exit $status
