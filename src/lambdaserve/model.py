"""One ONNX model version: an onnxruntime session created once, validated inputs, predict.

Knows ONNX and numpy; knows nothing of HTTP or of any wire protocol. `predict` is the one
place inputs are checked against the signature (names, dtype casts, shape and width,
finiteness), for every protocol and for batch blocks; codecs only check the wire format.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from lambdaserve.datatypes import DATATYPE_BY_ORT, NUMPY_BY_DATATYPE, cast
from lambdaserve.errors import InvalidInput, ModelLoadError
from lambdaserve.repository import ModelManifest, TensorSpec

_ORT_INVALID = (
    ort.capi.onnxruntime_pybind11_state.InvalidArgument,
    ort.capi.onnxruntime_pybind11_state.InvalidGraph,
)


@dataclass(frozen=True)
class SessionConfig:
    intra_op_threads: int = 1
    inter_op_threads: int = 1

    def options(self) -> ort.SessionOptions:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = self.intra_op_threads
        opts.inter_op_num_threads = self.inter_op_threads
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning threads burn the few vCPUs a Lambda has between requests.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.add_session_config_entry("session.inter_op.allow_spinning", "0")
        opts.log_severity_level = 3
        return opts


class OnnxModel:
    def __init__(self, manifest: ModelManifest, config: SessionConfig | None = None) -> None:
        self.manifest = manifest
        started = time.perf_counter()
        if not manifest.onnx_path.is_file():
            raise ModelLoadError(
                f"cannot load model {manifest.name!r} version {manifest.version}: no model.onnx"
            )
        try:
            self.session = ort.InferenceSession(
                str(manifest.onnx_path),
                sess_options=(config or SessionConfig()).options(),
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # onnxruntime raises its own unrelated types
            raise ModelLoadError(
                f"cannot load model {manifest.name!r} version {manifest.version}: its "
                "model.onnx is corrupt or not an ONNX model"
            ) from exc
        # What GET /models/{m} reports about the loaded version (issue 14).
        self.load_seconds = time.perf_counter() - started
        self.warm_seconds = 0.0
        self.loaded_at = time.time()
        self.providers: list[str] = list(self.session.get_providers())
        self._check_signature()
        self.input_specs = {t.name: t for t in manifest.inputs}
        self.output_names = tuple(t.name for t in manifest.outputs)
        self._output_list = list(self.output_names)  # ORT wants a list; built once
        self._dtypes = {t.name: NUMPY_BY_DATATYPE[t.datatype] for t in manifest.inputs}
        # The session's native run. InferenceSession.run wraps it with checks of the feed
        # names and a rebuilt output list on every call (~7 µs, a quarter of a one-row
        # forest); predict has already checked both. Fall back to the wrapper if a future
        # onnxruntime moves its internals.
        self._run = getattr(self.session, "_sess", self.session).run

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    def _check_signature(self) -> None:
        """model.json must describe the graph it ships with; refuse to serve otherwise."""
        session_io = {
            "inputs": [(i.name, DATATYPE_BY_ORT.get(i.type)) for i in self.session.get_inputs()],
            "outputs": [(o.name, DATATYPE_BY_ORT.get(o.type)) for o in self.session.get_outputs()],
        }
        manifest_io = {
            "inputs": [(t.name, t.datatype) for t in self.manifest.inputs],
            "outputs": [(t.name, t.datatype) for t in self.manifest.outputs],
        }
        for side in ("inputs", "outputs"):
            if sorted(session_io[side], key=str) != sorted(manifest_io[side], key=str):
                raise ModelLoadError(
                    f"model.json {side} of {self.name!r} version {self.version} do not match "
                    f"the ONNX graph: {manifest_io[side]} != {session_io[side]}"
                )
        # Shapes too, for inputs: a wrong width would pass our checks and then fail in ORT.
        graph_shapes = {i.name: i.shape for i in self.session.get_inputs()}
        for spec in self.manifest.inputs:
            dims = graph_shapes[spec.name]
            if len(dims) != len(spec.shape) or any(
                isinstance(g, int) and g != m for g, m in zip(dims, spec.shape, strict=True)
            ):
                raise ModelLoadError(
                    f"model.json shape of input {spec.name!r} of {self.name!r} version "
                    f"{self.version} is {list(spec.shape)}, the ONNX graph has {dims}"
                )

    def warm(self) -> None:
        """One inference at load time, so the first caller does not pay for lazy init."""
        started = time.perf_counter()
        feeds = {spec.name: _blank(spec, self._dtypes[spec.name]) for spec in self.manifest.inputs}
        self.session.run(None, feeds)
        self.warm_seconds = time.perf_counter() - started

    def predict(
        self, inputs: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None
    ) -> dict[str, np.ndarray]:
        feeds = {name: self._prepare(name, array) for name, array in inputs.items()}
        if len(feeds) != len(self.input_specs):  # _prepare refused unknown names
            missing = self.input_specs.keys() - feeds.keys()
            raise InvalidInput(f"missing input(s): {', '.join(sorted(missing))}")
        if outputs:
            names = list(outputs)
            unknown = [n for n in names if n not in self.output_names]
            if unknown:
                raise InvalidInput(
                    f"unknown output(s) {', '.join(unknown)}; model outputs are "
                    f"{', '.join(self.output_names)}"
                )
        else:
            names = self._output_list
        try:
            results = self._run(names, feeds, None)
        except _ORT_INVALID as exc:
            raise InvalidInput(f"model rejected the input: {exc}") from exc
        return dict(zip(names, results, strict=True))

    def _prepare(self, name: str, array: np.ndarray) -> np.ndarray:
        spec = self.input_specs.get(name)
        if spec is None:
            raise InvalidInput(
                f"unknown input {name!r}; model inputs are {', '.join(self.input_specs)}"
            )
        if array.dtype != self._dtypes[name]:
            array = cast(array, spec.datatype, name)
        _check_shape(spec, array.shape)
        if array.dtype.kind == "f" and not _all_finite(array):
            raise InvalidInput(f"input {name!r} contains NaN or infinite values")
        return array


def _blank(spec: TensorSpec, dtype: np.dtype[np.generic]) -> np.ndarray:
    """One row of zeros (empty texts for a BYTES input) to warm a session with."""
    shape = tuple(1 if d < 0 else d for d in spec.shape)
    return np.full(shape, "", dtype=object) if dtype.kind == "O" else np.zeros(shape, dtype)


def _all_finite(array: np.ndarray) -> bool:
    # One reduction: a finite sum proves every term finite; NaN or inf anywhere makes the
    # sum NaN or inf, and only then (or on an overflowing sum) does the exact check run.
    return math.isfinite(array.sum()) or bool(np.isfinite(array).all())


def _check_shape(spec: TensorSpec, shape: tuple[int, ...]) -> None:
    expected = spec.shape
    ok = len(shape) == len(expected)
    if ok:
        for e, s in zip(expected, shape, strict=True):
            if e >= 0 and e != s:
                ok = False
                break
    if not ok:
        want = "[" + ", ".join("-1" if d < 0 else str(d) for d in expected) + "]"
        raise InvalidInput(f"input {spec.name!r} has shape {list(shape)}, model expects {want}")
    if 0 in shape:
        raise InvalidInput(f"input {spec.name!r} is empty (shape {list(shape)})")
