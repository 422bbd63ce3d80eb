"""Result documents: one per input message, a prediction or an error, ready for the sinks.

`{"id": caller's id, "message_id": input's id, "model", "version", "prediction" | "predictions"}`
or `{"id", "message_id", "model", "version", "error", "status"}`. The correlation id (the
caller's id, else the input's message id) travels beside the body as a message attribute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lambdaserve.codecs.contract import dump_json
from lambdaserve.codecs.simple import prediction_rows
from lambdaserve.errors import LambdaserveError, PayloadTooLarge
from lambdaserve.inference import InferenceResponse
from lambdaserve.repository import ModelManifest

if TYPE_CHECKING:
    from lambdaserve.stream.grouping import Member

OK = "prediction"
ERROR = "error"


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us to build, per message
class Result:
    message_id: str
    correlation_id: str
    outcome: str  # OK | ERROR
    model: str | None
    body: bytes


def prediction(
    message_id: str,
    caller_id: str | None,
    model: str,
    version: str,
    rows: Sequence[dict[str, Any]],
    single: bool,
) -> dict[str, Any]:
    if single:
        return {
            "id": caller_id,
            "message_id": message_id,
            "model": model,
            "version": version,
            **rows[0],
        }
    return {
        "id": caller_id,
        "message_id": message_id,
        "model": model,
        "version": version,
        "predictions": list(rows),
    }


def predictions(
    members: Sequence[Member],
    outputs: Mapping[str, np.ndarray],
    manifest: ModelManifest,
    version: str,
) -> list[dict[str, Any]]:
    """Each member's prediction document, from the outputs of its group's one model call.

    The seed-style rows are `prediction_rows`' (the REST function's answer); for the usual
    stream message, one row of a classifier, the document is built in one step instead.
    """
    if (
        manifest.is_classifier
        and "label" in outputs
        and "probabilities" in outputs
        and len(outputs["label"]) == len(members)
        and all(m.single for m in members)
    ):
        return _classified(members, outputs, manifest, version)
    response = InferenceResponse(manifest.name, version, dict(outputs))
    rows = prediction_rows(response, manifest)
    docs = []
    start = 0
    for m in members:
        end = start + len(m.rows)
        docs.append(
            prediction(m.message_id, m.caller_id, manifest.name, version, rows[start:end], m.single)
        )
        start = end
    return docs


def _classified(
    members: Sequence[Member],
    outputs: Mapping[str, np.ndarray],
    manifest: ModelManifest,
    version: str,
) -> list[dict[str, Any]]:
    """`prediction` of `prediction_rows`' classifier row, one row per member, in one dict."""
    proba = outputs["probabilities"]
    width = proba.shape[1]
    names = manifest.class_labels
    if names is None or len(names) != width:
        names = tuple(str(i) for i in range(width))
    model = manifest.name
    docs = []
    for m, label, row in zip(members, outputs["label"].tolist(), proba.tolist(), strict=True):
        best = max(row)
        docs.append(
            {
                "id": m.caller_id,
                "message_id": m.message_id,
                "model": model,
                "version": version,
                "prediction": label,
                "label": names[row.index(best)],
                "probability": best,
                "probabilities": dict(zip(names, row, strict=True)),
            }
        )
    return docs


def failure(
    message_id: str,
    caller_id: str | None,
    model: str | None,
    error: LambdaserveError,
    version: str | None = None,
) -> dict[str, Any]:
    return {
        "id": caller_id,
        "message_id": message_id,
        "model": model,
        "version": version,
        "error": error.message,
        "status": error.status,
    }


def encode(doc: dict[str, Any], max_bytes: int) -> Result:
    """The document as a result; one too big for the output becomes an error result."""
    body = dump_json(doc)
    message_id, caller, model = doc["message_id"], doc["id"], doc["model"]
    outcome = ERROR if "error" in doc else OK
    if len(body) > max_bytes:
        outcome = ERROR
        too_big = PayloadTooLarge(
            f"the result is {len(body):,} bytes, over the output's {max_bytes:,}: "
            'send fewer "instances" per message'
        )
        body = dump_json(failure(message_id, caller, model, too_big, doc.get("version")))
    return Result(message_id, caller or message_id, outcome, model, body)
