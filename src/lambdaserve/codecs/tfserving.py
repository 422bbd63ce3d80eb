"""TensorFlow Serving REST: predict in row (`instances`) and columnar (`inputs`) formats,
classify/regress over named-feature examples, model status and metadata. A text model's
(DT_STRING) rows are strings: `{"instances": ["a text", "another"]}`.

Response shapes follow TF Serving so unmodified TF Serving clients parse them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from lambdaserve.codecs.arrays import numeric_array
from lambdaserve.codecs.contract import Encoded, dump_json, parse_json
from lambdaserve.codecs.simple import rows_from_named
from lambdaserve.codecs.strings import string_rows
from lambdaserve.datatypes import NUMPY_BY_DATATYPE
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest, TensorSpec

SIGNATURE = "serving_default"
VERBS = ("predict", "classify", "regress")
VERB = "verb"  # request value: the method after the colon of the path
_TF_DTYPES = {
    "BOOL": "DT_BOOL",
    "INT8": "DT_INT8",
    "INT16": "DT_INT16",
    "INT32": "DT_INT32",
    "INT64": "DT_INT64",
    "UINT8": "DT_UINT8",
    "UINT16": "DT_UINT16",
    "UINT32": "DT_UINT32",
    "UINT64": "DT_UINT64",
    "FP16": "DT_HALF",
    "FP32": "DT_FLOAT",
    "FP64": "DT_DOUBLE",
    "BYTES": "DT_STRING",
}

REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "signature_name": {"type": "string"},
        "instances": {"type": "array"},
        "inputs": {},
        "examples": {"type": "array", "items": {"type": "object"}},
    },
}
REQUEST_EXAMPLE = {"instances": [[5.1, 3.5, 1.4, 0.2]]}


class TFRequest(NamedTuple):
    """The decoded request (a named tuple: built on every request, it must be cheap)."""

    inference: InferenceRequest
    verb: str
    columnar: bool


def split_verb(segment: str) -> tuple[str, str]:
    """`iris:predict` -> ("iris", "predict")."""
    target, sep, verb = segment.rpartition(":")
    if not sep or not target:
        raise InvalidInput(f"expected <name>:predict, :classify or :regress, got {segment!r}")
    if verb not in VERBS:
        raise InvalidInput(f"unsupported method {verb!r}; use one of {', '.join(VERBS)}")
    return target, verb


def decode(body: bytes, values: Mapping[str, str], manifest: ModelManifest) -> TFRequest:
    verb = values.get(VERB, "predict")
    if verb not in VERBS:
        raise InvalidInput(f"unsupported method {verb!r}; use one of {', '.join(VERBS)}")
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidInput("request body must be a JSON object")
    return _decode(doc, verb, manifest)


def _decode(body: dict[str, Any], verb: str, manifest: ModelManifest) -> TFRequest:
    signature = body.get("signature_name", SIGNATURE)
    if signature not in (SIGNATURE, ""):
        raise InvalidInput(f"unknown signature_name {signature!r}; this model has {SIGNATURE!r}")
    if verb != "predict":
        return TFRequest(_decode_examples(body, verb, manifest), verb, columnar=False)
    if ("instances" in body) == ("inputs" in body):
        raise InvalidInput('request must have exactly one of "instances" or "inputs"')
    specs = manifest.inputs
    if "instances" in body:
        inputs = _decode_rows(body["instances"], specs)
    else:
        inputs = _decode_columns(body["inputs"], specs)
    return TFRequest(InferenceRequest(inputs=inputs), verb, columnar="inputs" in body)


def _array(value: Any, spec: TensorSpec, what: str) -> np.ndarray:
    """Numbers, or texts for a BYTES input (TF Serving's DT_STRING)."""
    if spec.datatype == "BYTES":
        return string_rows(value, spec, what)
    return numeric_array(value, what, NUMPY_BY_DATATYPE[spec.datatype])


def _decode_rows(instances: Any, specs: tuple[TensorSpec, ...]) -> dict[str, np.ndarray]:
    if not isinstance(instances, list) or not instances:
        raise InvalidInput('"instances" must be a non-empty list')
    names = [t.name for t in specs]
    if all(isinstance(row, dict) for row in instances):
        for i, row in enumerate(instances):
            if set(row) != set(names):
                raise InvalidInput(f"instances[{i}] must have exactly the inputs {names}")
        return {
            t.name: _array([row[t.name] for row in instances], t, f"instances.{t.name}")
            for t in specs
        }
    if dict in set(map(type, instances)):
        raise InvalidInput('"instances" mixes named and unnamed rows')
    if len(names) != 1:
        raise InvalidInput(f"model has inputs {names}: send named instances")
    return {names[0]: _array(instances, specs[0], "instances")}


def _decode_columns(inputs: Any, specs: tuple[TensorSpec, ...]) -> dict[str, np.ndarray]:
    names = [t.name for t in specs]
    if isinstance(inputs, dict):
        if set(inputs) != set(names):
            raise InvalidInput(f'"inputs" must have exactly the inputs {names}')
        return {t.name: _array(inputs[t.name], t, f"inputs.{t.name}") for t in specs}
    if len(names) != 1:
        raise InvalidInput(f"model has inputs {names}: send named inputs")
    return {names[0]: _array(inputs, specs[0], "inputs")}


def _decode_examples(body: dict[str, Any], verb: str, manifest: ModelManifest) -> InferenceRequest:
    if verb == "classify" and not manifest.is_classifier:
        raise InvalidInput(f"model {manifest.name!r} is not a classifier; use :predict")
    if verb == "regress" and manifest.is_classifier:
        raise InvalidInput(f"model {manifest.name!r} is a classifier; use :classify")
    examples = body.get("examples")
    if not isinstance(examples, list) or not examples:
        raise InvalidInput('"examples" must be a non-empty list of feature objects')
    context = body.get("context") or {}
    if not isinstance(context, dict):
        raise InvalidInput('"context" must be an object of features')
    rows = []
    for i, example in enumerate(examples):
        if not isinstance(example, dict):
            raise InvalidInput(f"examples[{i}] must be an object of named features")
        rows.append(rows_from_named({**context, **example}, manifest, f"examples[{i}]"))
    spec = manifest.inputs[0]
    return InferenceRequest(inputs={spec.name: _array(rows, spec, "examples")})


def encode(response: InferenceResponse, request: TFRequest, manifest: ModelManifest) -> Encoded:
    return Encoded(dump_json(_answer(response, request, manifest)))


def _answer(response: InferenceResponse, request: TFRequest, manifest: ModelManifest) -> Any:
    outputs = response.outputs
    if request.verb == "classify":
        labels = manifest.class_labels or ()
        proba = outputs["probabilities"]
        names = [labels[i] if i < len(labels) else str(i) for i in range(proba.shape[1])]
        return {"results": [list(zip(names, row, strict=True)) for row in proba.tolist()]}
    if request.verb == "regress":
        values = outputs[manifest.outputs[0].name]
        return {"results": values.reshape(values.shape[0], -1)[:, 0].tolist()}
    if request.columnar:
        if len(outputs) == 1:
            return {"outputs": _json_ready(next(iter(outputs.values())))}
        return {"outputs": {k: _json_ready(v) for k, v in outputs.items()}}
    if len(outputs) == 1:
        return {"predictions": _json_ready(next(iter(outputs.values())))}
    names = list(outputs)
    columns = [array.tolist() for array in outputs.values()]
    return {
        "predictions": [dict(zip(names, row, strict=False)) for row in zip(*columns, strict=True)]
    }


def _json_ready(array: np.ndarray) -> Any:
    """orjson writes numeric arrays natively; string tensors (object arrays) as lists."""
    return array.tolist() if array.dtype.kind == "O" else array


def version_status(versions: list[str]) -> dict[str, Any]:
    return {
        "model_version_status": [
            {
                "version": v,
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
            for v in versions
        ]
    }


def _signature_tensor(spec_name: str, datatype: str, shape: tuple[int, ...]) -> dict[str, Any]:
    return {
        "dtype": _TF_DTYPES.get(datatype, "DT_INVALID"),
        "tensor_shape": {
            "dim": [{"size": str(d), "name": ""} for d in shape],
            "unknown_rank": False,
        },
        "name": f"{spec_name}:0",
    }


def metadata(manifest: ModelManifest) -> dict[str, Any]:
    signature = {
        "inputs": {t.name: _signature_tensor(t.name, t.datatype, t.shape) for t in manifest.inputs},
        "outputs": {
            t.name: _signature_tensor(t.name, t.datatype, t.shape) for t in manifest.outputs
        },
        "method_name": "tensorflow/serving/predict",
    }
    return {
        "model_spec": {"name": manifest.name, "signature_name": "", "version": manifest.version},
        "metadata": {"signature_def": {"signature_def": {SIGNATURE: signature}}},
    }
