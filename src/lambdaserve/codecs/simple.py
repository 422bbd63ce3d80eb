"""The seed-style protocol: `{"features": [...]}`, `{"features": {name: value}}` or
`{"instances": [...]}`. A text model's features are strings (`{"features": "a text"}`).

Responses carry the prediction plus, for classifiers, the class label name and probabilities.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from lambdaserve.codecs.arrays import numeric_array
from lambdaserve.codecs.contract import Encoded, dump_json, parse_json
from lambdaserve.codecs.strings import string_rows
from lambdaserve.datatypes import NUMPY_BY_DATATYPE
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest

_VALUE = {"type": ["number", "string"]}  # strings: a text model's features
_ROW = {
    "oneOf": [
        {"type": "array", "items": _VALUE},
        {"type": "object", "additionalProperties": _VALUE},
        {"type": "string"},
    ]
}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"features": _ROW, "instances": {"type": "array", "items": _ROW}},
}
REQUEST_EXAMPLE = {"features": [5.1, 3.5, 1.4, 0.2]}


def rows_from_named(named: dict[str, Any], manifest: ModelManifest, where: str) -> list[Any]:
    """Order a {feature name: value} object by the model's feature names."""
    index = manifest.feature_index
    if not index:
        raise InvalidInput(f"{where}: model {manifest.name!r} has no feature names; send a list")
    unknown = [k for k in named if k not in index]
    if unknown:
        raise InvalidInput(f"{where}: unknown feature(s) {', '.join(map(repr, unknown[:5]))}")
    missing = [n for n in manifest.feature_names if n not in named]
    if missing:
        raise InvalidInput(f"{where}: missing feature(s) {', '.join(map(repr, missing[:5]))}")
    return [named[n] for n in manifest.feature_names]


def _single_input(manifest: ModelManifest) -> str:
    if len(manifest.inputs) != 1:
        raise InvalidInput(f"model {manifest.name!r} has several inputs; use the V2 protocol")
    return manifest.inputs[0].name


class SimpleRequest(NamedTuple):
    """The decoded request (a named tuple: built on every request, it must be cheap)."""

    inference: InferenceRequest
    single: bool  # the caller sent one row (`features`): it gets one object back


def decode(body: bytes, values: Mapping[str, str], manifest: ModelManifest) -> SimpleRequest:
    doc = parse_json(body)
    if not isinstance(doc, dict):
        raise InvalidInput('body must be a JSON object with "features" or "instances"')
    name = _single_input(manifest)
    if ("features" in doc) == ("instances" in doc):
        raise InvalidInput('body must have exactly one of "features" or "instances"')
    single = "features" in doc
    if single:
        features = doc["features"]
        if isinstance(features, dict):
            features = rows_from_named(features, manifest, "features")
        elif type(features) is str and manifest.inputs[0].datatype == "BYTES":
            features = [features]  # a text model's one feature
        if not isinstance(features, list) or not features:
            raise InvalidInput('"features" must be a non-empty list or an object of named features')
        rows: list[Any] = [features]
    else:
        instances = doc["instances"]
        if not isinstance(instances, list) or not instances:
            raise InvalidInput('"instances" must be a non-empty list of rows')
        rows = [
            rows_from_named(r, manifest, f"instances[{i}]") if isinstance(r, dict) else r
            for i, r in enumerate(instances)
        ]
    spec = manifest.inputs[0]
    what = "features" if single else "instances"
    if spec.datatype == "BYTES":
        array = string_rows(rows, spec, what)
    else:
        array = numeric_array(rows, what, NUMPY_BY_DATATYPE[spec.datatype])
    return SimpleRequest(InferenceRequest(inputs={name: array}), single)


def encode(response: InferenceResponse, decoded: SimpleRequest, manifest: ModelManifest) -> Encoded:
    rows = prediction_rows(response, manifest)
    if decoded.single:
        doc = {"model": response.model_name, "version": response.model_version, **rows[0]}
    else:
        doc = {"model": response.model_name, "version": response.model_version, "predictions": rows}
    return Encoded(dump_json(doc))


def prediction_rows(response: InferenceResponse, manifest: ModelManifest) -> list[dict[str, Any]]:
    """One seed-style object per row (prediction, and label and probabilities for classifiers)."""
    outputs = response.outputs
    if manifest.is_classifier and "label" in outputs and "probabilities" in outputs:
        proba = outputs["probabilities"]
        width = proba.shape[1]
        names = manifest.class_labels
        if names is None or len(names) != width:
            names = tuple(str(i) for i in range(width))
        # The label name comes from the probability column the model picked (class values
        # need not be 0..k-1). One tolist each, then plain Python: numpy calls cost more
        # than they save on the few classes of a row.
        rows = []
        for label, row in zip(outputs["label"].tolist(), proba.tolist(), strict=True):
            best = max(row)
            rows.append(
                {
                    "prediction": label,
                    "label": names[row.index(best)],
                    "probability": best,
                    "probabilities": dict(zip(names, row, strict=True)),
                }
            )
        return rows
    first = outputs[manifest.outputs[0].name]
    values = first.reshape(first.shape[0], -1)
    return [{"prediction": v[0] if len(v) == 1 else v} for v in values.tolist()]
