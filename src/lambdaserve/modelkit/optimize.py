"""`--optimize` and `--quantize`: smaller or faster graphs, accepted only if they still answer.

Each variant is measured against the validated graph on the same sample rows: accuracy
delta (holdout accuracy / R² when targets are given, else agreement with the validated
graph), file size, session load time and single-row latency. A variant that loses more
than `--max-accuracy-drop` is refused.

Offline optimization is saved at ORT_ENABLE_EXTENDED: ENABLE_ALL adds layout
transformations specific to the CPU that ran them, and a layer must serve x86_64 and
arm64 alike.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from lambdaserve.modelkit import graph
from lambdaserve.modelkit.errors import ModelKitError

LOADS = 5
RUNS = 200


@dataclass(frozen=True)
class Measure:
    size: int
    load_ms: float
    latency_us: float


@dataclass
class Optimized:
    onnx_bytes: bytes
    outputs: dict[str, np.ndarray]
    lines: list[str] = field(default_factory=list)


def measure(onnx_bytes: bytes, feeds: Mapping[str, np.ndarray]) -> Measure:
    """Median session creation time and median one-row latency, as a function would see."""
    loads = []
    for _ in range(LOADS):
        start = time.perf_counter()
        sess = graph.session(onnx_bytes)
        loads.append(time.perf_counter() - start)
    one = {k: np.asarray(v)[:1] for k, v in feeds.items()}
    sess.run(None, one)
    runs = []
    for _ in range(RUNS):
        start = time.perf_counter()
        sess.run(None, one)
        runs.append(time.perf_counter() - start)
    return Measure(len(onnx_bytes), statistics.median(loads) * 1e3, statistics.median(runs) * 1e6)


def _run(onnx_bytes: bytes, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    sess = graph.session(onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, (np.asarray(v) for v in sess.run(names, dict(feeds))), strict=True))


# Operators whose weights dynamic int8 quantization rewrites; tree ensembles have none.
QUANTIZABLE = {
    "MatMul",
    "Gemm",
    "Conv",
    "Attention",
    "LSTM",
    "GRU",
    "Gather",
    "EmbedLayerNormalization",
}


def quantize_int8(onnx_bytes: bytes) -> bytes:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    ops = {n.op_type for n in onnx.load_model_from_string(onnx_bytes).graph.node}
    if not ops & QUANTIZABLE:
        raise ModelKitError(
            "int8 quantization does not apply: the graph has no MatMul, Gemm or Conv "
            f"weights (its operators: {', '.join(sorted(ops)[:6])})"
        )

    with tempfile.TemporaryDirectory() as scratch:
        source, target = Path(scratch, "in.onnx"), Path(scratch, "out.onnx")
        source.write_bytes(onnx_bytes)
        quiet = logging.getLogger()
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # it advises pre-processing on every call
        try:
            quantize_dynamic(source, target, weight_type=QuantType.QInt8)
        except Exception as exc:  # the quantizer raises many unrelated types
            raise ModelKitError(f"int8 quantization failed: {str(exc).splitlines()[0]}") from None
        finally:
            quiet.setLevel(level)
        return target.read_bytes()


def convert_fp16(onnx_bytes: bytes) -> bytes:
    import onnx
    from onnxconverter_common import float16

    try:
        with warnings.catch_warnings():  # it warns once per tiny constant it rounds
            warnings.simplefilter("ignore")
            model = float16.convert_float_to_float16(
                onnx.load_model_from_string(onnx_bytes), keep_io_types=True
            )
    except Exception as exc:  # the converter raises many unrelated types
        raise ModelKitError(f"float16 conversion failed: {str(exc).splitlines()[0]}") from None
    result = bytes(model.SerializeToString())
    try:
        graph.session(result)
    except ModelKitError as exc:
        raise ModelKitError(
            "float16 conversion does not apply to this graph (it mixes float16 and float "
            f"tensors; ai.onnx.ml operators such as Scaler stay float): {exc.message}"
        ) from None
    return result


def optimize_offline(onnx_bytes: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch, "optimized.onnx")
        graph.session(
            onnx_bytes,
            level=ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
            optimized_path=str(target),
        )
        return target.read_bytes()


def quality(
    outputs: Mapping[str, np.ndarray],
    baseline: Mapping[str, np.ndarray],
    task: str,
    targets: tuple[str, ...] | None,
) -> tuple[float, str]:
    """(score, description): holdout accuracy / R², else agreement with the baseline."""
    if task == "classification" and "label" in outputs:
        labels = np.asarray(outputs["label"]).reshape(-1).astype(str)
        if targets is not None:
            truth = np.asarray([_norm(t) for t in targets])
            got = np.asarray([_norm(v) for v in labels])
            return float((got == truth).mean()), "holdout accuracy"
        base = np.asarray(baseline["label"]).reshape(-1).astype(str)
        return float((labels == base).mean()), "label agreement with the validated model"
    name = next(iter(baseline))
    got = np.asarray(outputs[name], dtype=np.float64).reshape(-1)
    if targets is not None and task == "regression":
        truth = np.asarray([float(t) for t in targets])
        spread = float(((truth - truth.mean()) ** 2).sum()) or 1.0
        return 1.0 - float(((truth - got) ** 2).sum()) / spread, "holdout R²"
    base = np.asarray(baseline[name], dtype=np.float64).reshape(-1)
    scale = float(base.std()) or 1.0
    return 1.0 - float(np.abs(got - base).mean()) / scale, "1 - mean |difference| / std"


def _norm(value: str) -> str:
    try:
        return repr(float(value))
    except ValueError:
        return value


def apply(
    onnx_bytes: bytes,
    feeds: Mapping[str, np.ndarray],
    baseline: Mapping[str, np.ndarray],
    *,
    optimize: bool,
    quantize: str | None,
    task: str,
    max_accuracy_drop: float,
    targets: tuple[str, ...] | None,
) -> Optimized:
    before = measure(onnx_bytes, feeds)
    result = onnx_bytes
    steps: list[str] = []
    if quantize == "int8":
        result, steps = quantize_int8(result), [*steps, "int8"]
    elif quantize == "fp16":
        result, steps = convert_fp16(result), [*steps, "fp16"]
    elif quantize is not None:
        raise ModelKitError(f"--quantize must be int8 or fp16, not {quantize!r}")
    if optimize:
        result, steps = optimize_offline(result), [*steps, "optimized"]
    outputs = _run(result, feeds)
    base_score, how = quality(baseline, baseline, task, targets)
    score, _ = quality(outputs, baseline, task, targets)
    drop = base_score - score
    after = measure(result, feeds)
    what = "+".join(steps)
    lines = [
        f"{what}: {how} {base_score:.4f} -> {score:.4f} (drop {drop:.4f}, "
        f"limit {max_accuracy_drop:g})",
        f"{what}: size {before.size:,} -> {after.size:,} bytes, load {before.load_ms:.2f} -> "
        f"{after.load_ms:.2f} ms, one-row latency {before.latency_us:.1f} -> "
        f"{after.latency_us:.1f} µs",
    ]
    if drop > max_accuracy_drop:
        raise ModelKitError(
            f"{what} loses {drop:.4f} in {how} ({base_score:.4f} -> {score:.4f}), above "
            f"--max-accuracy-drop {max_accuracy_drop:g}; the model was not added"
        )
    for name, values in outputs.items():
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise ModelKitError(f"{what} outputs NaN or infinity in {name!r}; not added")
    return Optimized(result, outputs, lines)
