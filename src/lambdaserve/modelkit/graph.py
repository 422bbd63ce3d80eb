"""What an ONNX graph offers the protocols: tensor inputs and outputs, and an ORT session.

The pinned onnxruntime is the judge of what is servable: a graph it cannot load (an
unknown operator, an opset newer than it knows) is refused here, at import, not at init
in Lambda.
"""

from __future__ import annotations

import onnx
import onnxruntime as ort

from lambdaserve.datatypes import DATATYPE_BY_ORT
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.repository import TensorSpec


def parse(data: bytes, what: str) -> onnx.ModelProto:
    """An ONNX model from bytes, refusing anything that is not a usable graph."""
    try:
        model = onnx.load_model_from_string(data)
    except Exception as exc:  # protobuf raises its own DecodeError family
        raise ModelKitError(f"{what} is not an ONNX model ({type(exc).__name__})") from None
    if not model.graph.node or not model.graph.input or not model.graph.output:
        raise ModelKitError(f"{what} is not an ONNX model (no graph with inputs and outputs)")
    return model


def session(
    model: bytes | str,
    *,
    level: ort.GraphOptimizationLevel = ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    optimized_path: str | None = None,
) -> ort.InferenceSession:
    """A CPU session as the functions create it; refusal names onnxruntime's reason."""
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    options.log_severity_level = 3
    options.intra_op_num_threads = 1
    if optimized_path is not None:
        options.optimized_model_filepath = optimized_path
    try:
        return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's exception types are not exported
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelKitError(
            f"onnxruntime {ort.__version__} (the pinned runtime) cannot load the model: {reason}"
        ) from None


def _spec(arg: ort.NodeArg, side: str) -> TensorSpec:
    datatype = DATATYPE_BY_ORT.get(arg.type)
    if datatype is None:
        raise ModelKitError(
            f"{side} {arg.name!r} is {arg.type}: the protocols carry tensors of "
            "bool, int, uint, float16/32/64 or strings only"
            + (" (convert classifiers without ZipMap)" if "map" in arg.type else "")
        )
    shape = tuple(d if isinstance(d, int) and d >= 0 else -1 for d in (arg.shape or []))
    return TensorSpec(arg.name, datatype, shape)


def signature(sess: ort.InferenceSession) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """The session's inputs and outputs as model.json describes them."""
    inputs = tuple(_spec(a, "input") for a in sess.get_inputs())
    outputs = tuple(_spec(a, "output") for a in sess.get_outputs())
    return inputs, outputs


def rename_outputs(model: onnx.ModelProto, names: dict[str, str]) -> None:
    """Rename graph outputs (and every use of them) in place, e.g. `variable` -> `prediction`."""
    for node in model.graph.node:
        node.output[:] = [names.get(o, o) for o in node.output]
        node.input[:] = [names.get(i, i) for i in node.input]
    for output in model.graph.output:
        output.name = names.get(output.name, output.name)


def set_description(model: onnx.ModelProto, name: str, version: str, description: str) -> None:
    """A stable graph name (converters default to random uuids) and the model's description."""
    model.graph.name = f"{name}_v{version}"
    if description:
        model.doc_string = description
