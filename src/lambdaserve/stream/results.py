"""Result documents: one per input message, a prediction or an error, ready for the sinks.

`{"id": caller's id, "message_id": input's id, "model", "version", "prediction" | "predictions"}`
or `{"id", "message_id", "model", "version", "error", "status"}`. The correlation id (the
caller's id, else the input's message id) travels beside the body as a message attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lambdaserve.codecs.contract import dump_json
from lambdaserve.errors import LambdaserveError, PayloadTooLarge

OK = "prediction"
ERROR = "error"


@dataclass(frozen=True, slots=True)
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
    doc: dict[str, Any] = {"id": caller_id, "message_id": message_id, "model": model}
    doc["version"] = version
    if single:
        doc.update(rows[0])
    else:
        doc["predictions"] = list(rows)
    return doc


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
    message_id, caller = str(doc["message_id"]), doc.get("id")
    model = doc.get("model")
    body = dump_json(doc)
    outcome = ERROR if "error" in doc else OK
    if len(body) > max_bytes:
        outcome = ERROR
        too_big = PayloadTooLarge(
            f"the result is {len(body):,} bytes, over the output's {max_bytes:,}: "
            'send fewer "instances" per message'
        )
        body = dump_json(failure(message_id, caller, model, too_big, doc.get("version")))
    return Result(message_id, caller or message_id, outcome, model, body)
