"""Unzipped size of each function plus its layers after `sam build` (Lambda's limit: 250 MB).

Exits non-zero above the limit; warns above the 200 MB target. Writes bench/out/size.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
LIMIT_MB = 250.0
TARGET_MB = 200.0


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure(
    template: Path = ROOT / "template.yaml", build: Path = BUILD
) -> dict[str, dict[str, float]]:
    """Per function: its build directory and each of its layers' (Globals merged), in MB."""
    from lambdaserve.local.template import load

    sizes: dict[str, dict[str, float]] = {}
    for logical_id, function in load(template).functions.items():
        parts = {logical_id: dir_bytes(build / logical_id)}
        parts.update({layer: dir_bytes(build / layer) for layer in function.layers})
        mb = {k: round(v / 1e6, 1) for k, v in parts.items()}
        mb["total"] = round(sum(parts.values()) / 1e6, 1)
        sizes[logical_id] = mb
    return sizes


def main() -> int:
    if not BUILD.is_dir():
        print("no .aws-sam/build: run `make build` first", file=sys.stderr)
        return 2
    sizes = measure()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "size.json").write_text(json.dumps(sizes, indent=2) + "\n")
    worst = 0.0
    print(f"{'function':<24} {'unzipped MB (function + layers)':>34}")
    for name, mb in sizes.items():
        parts = ", ".join(f"{k} {v}" for k, v in mb.items() if k != "total")
        print(f"{name:<24} {mb['total']:>8}  ({parts})")
        worst = max(worst, mb["total"])
    if worst > LIMIT_MB:
        print(f"FAIL: {worst} MB exceeds Lambda's {LIMIT_MB} MB limit", file=sys.stderr)
        return 1
    status = "within" if worst <= TARGET_MB else "ABOVE"
    print(f"largest {worst} MB: {status} the {TARGET_MB} MB target, limit {LIMIT_MB} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
