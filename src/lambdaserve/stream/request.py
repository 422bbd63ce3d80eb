"""One message's JSON body: routing (model, version or label, the caller's id) and its rows.

The body is the seed-style predict body plus routing:
`{"model": "iris", "version": "1" | "stable", "id": "...", "features": [...] | {...}}` or
`{..., "instances": [[...], {...}]}`. Checks here are the wire format's and the model's
width; finiteness and dtype ranges are the model's checks, made on the whole group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson

from lambdaserve.codecs.arrays import numeric_array
from lambdaserve.codecs.simple import rows_from_named
from lambdaserve.errors import InvalidInput, PayloadTooLarge
from lambdaserve.repository import ModelManifest

ROUTING = ("model", "version", "id")
_ABSENT: Any = object()  # a field the body does not have (JSON null is a value)


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us to build, per message
class Routed:
    model: str
    version: str | None  # a version or a label of the model; None: the model's default
    caller_id: str | None
    rows: Any  # the JSON value of `features` or `instances`
    single: bool  # `features`: one row, answered with one prediction


def parse_body(body: str | bytes) -> dict[str, Any]:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"message body is not valid JSON: {exc}") from None
    if type(doc) is not dict:
        raise InvalidInput('message body must be a JSON object with "model" and "features"')
    return doc


def caller_id(doc: dict[str, Any]) -> str | None:
    """The caller's id when it is a string or an integer (echoed even on errors)."""
    return _caller_id(doc.get("id"))


def _caller_id(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is int:  # JSON's integers (bool is not int here: type() is exact)
        return str(value)
    return None


def route(doc: dict[str, Any]) -> Routed:
    model = doc.get("model")
    if type(model) is not str or not model:
        raise InvalidInput('"model" must be the name of a model')
    version = doc.get("version")
    if version is not None and type(version) is not str:
        if type(version) is not int:
            raise InvalidInput('"version" must be a version or a label of the model')
        version = str(version)
    elif version == "":
        raise InvalidInput('"version" must be a version or a label of the model')
    cid = doc.get("id")
    if cid is not None and type(cid) is not str:
        if type(cid) is not int:  # bool is not int here: type() is exact
            raise InvalidInput('"id" must be a string or an integer')
        cid = str(cid)
    features = doc.get("features", _ABSENT)
    instances = doc.get("instances", _ABSENT)
    if (features is _ABSENT) == (instances is _ABSENT):
        raise InvalidInput('message must have exactly one of "features" or "instances"')
    single = features is not _ABSENT
    return Routed(model, version, cid, features if single else instances, single)


def row_list(routed: Routed, manifest: ModelManifest, max_rows: int) -> list[Any]:
    """The message's rows as JSON lists in the model's feature order (named ones ordered)."""
    if len(manifest.inputs) != 1:
        raise InvalidInput(f"model {manifest.name!r} has several inputs; use the V2 protocol")
    if routed.single:
        features = routed.rows
        if isinstance(features, dict):
            features = rows_from_named(features, manifest, "features")
        if not isinstance(features, list) or not features:
            raise InvalidInput('"features" must be a non-empty list or an object of named features')
        return [features]
    instances = routed.rows
    if not isinstance(instances, list) or not instances:
        raise InvalidInput('"instances" must be a non-empty list of rows')
    if len(instances) > max_rows:
        raise PayloadTooLarge(
            f'"instances" has {len(instances):,} rows; one message may carry {max_rows:,}'
        )
    return [
        rows_from_named(r, manifest, f"instances[{i}]") if isinstance(r, dict) else r
        for i, r in enumerate(instances)
    ]


def to_array(rows: list[Any], manifest: ModelManifest, what: str) -> np.ndarray:
    """Rows (of one message, or of a whole group at once) as a checked [rows, features] array."""
    array = numeric_array(rows, what)
    width = manifest.inputs[0].shape[-1] if manifest.inputs[0].shape else -1
    if array.ndim != 2 or (width >= 0 and array.shape[1] != width):
        got = array.shape[1] if array.ndim == 2 else "a different shape"
        raise InvalidInput(f"model {manifest.name!r} expects {width} features per row, got {got}")
    return array


def decode_rows(routed: Routed, manifest: ModelManifest, max_rows: int) -> np.ndarray:
    """One message's rows as a [rows, features] array, checked against the model's width."""
    what = "features" if routed.single else "instances"
    return to_array(row_list(routed, manifest, max_rows), manifest, what)
