"""Shadow comparisons (issue 12): how a shadow version's answers compare with the primary's.

The shadow stage scores the same input with another version and calls `record_shadow`
with a `ShadowOutcome`; the outcome becomes one EMF record (dimensions: the model and the
SHADOW version, the candidate being judged) and, when the request is captured, part of its
capture record. `compare` computes the outcome of two answers to one request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambdaserve.observability import emf, names
from lambdaserve.observability.predictions import predicted_classes
from lambdaserve.observability.sink import LineWriter, write_stdout

COMPARED = "compared"
ERROR = "error"
TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class ShadowOutcome:
    version: str  # the shadow version
    status: str  # compared | error | timeout
    # compared classifiers: fraction of rows whose predicted class matches the primary's
    agreement: float | None = None
    # compared regressors: mean |primary - shadow| over every output value
    absolute_difference: float | None = None
    seconds: float | None = None  # the shadow's own latency, when it answered
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


def compare(
    primary: Mapping[str, np.ndarray],
    shadow: Mapping[str, np.ndarray],
    classifier: bool,
    version: str,
    seconds: float | None = None,
) -> ShadowOutcome:
    """The outcome of a shadow that answered: class agreement or mean absolute difference."""
    if classifier:
        mine, theirs = predicted_classes(primary), predicted_classes(shadow)
        if mine is not None and theirs is not None and mine.shape == theirs.shape:
            agreement = float(np.mean(mine == theirs)) if mine.size else 1.0
            return ShadowOutcome(version, COMPARED, agreement=agreement, seconds=seconds)
    else:
        name = next(iter(primary), None)
        if name is not None and name in shadow and primary[name].shape == shadow[name].shape:
            diff = np.abs(primary[name].astype(np.float64) - shadow[name].astype(np.float64))
            mean = float(diff.mean()) if diff.size else 0.0
            return ShadowOutcome(version, COMPARED, absolute_difference=mean, seconds=seconds)
    return ShadowOutcome(version, ERROR, seconds=seconds, error="answers cannot be compared")


def shadow_document(
    model: str, primary_version: str, outcome: ShadowOutcome, inference_id: str | None = None
) -> dict[str, Any]:
    metrics: list[emf.Metric] = [(names.SHADOW_COMPARISONS, names.COUNT, 1.0)]
    metrics.append((names.SHADOW_ERRORS, names.COUNT, float(outcome.status == ERROR)))
    metrics.append((names.SHADOW_TIMEOUTS, names.COUNT, float(outcome.status == TIMEOUT)))
    if outcome.agreement is not None:
        metrics.append((names.SHADOW_AGREEMENT, names.NONE, outcome.agreement))
    if outcome.absolute_difference is not None:
        metrics.append((names.SHADOW_ABSOLUTE_DIFFERENCE, names.NONE, outcome.absolute_difference))
    if outcome.seconds is not None:
        metrics.append((names.SHADOW_LATENCY, names.MILLISECONDS, outcome.seconds * 1000.0))
    properties: dict[str, Any] = {
        "level": "WARNING" if outcome.status != COMPARED else "INFO",
        "message": f"shadow {outcome.status}",
        "primary_version": primary_version,
        "shadow_status": outcome.status,
    }
    if inference_id is not None:
        properties["inference_id"] = inference_id
    if outcome.error is not None:
        properties["error"] = outcome.error
    return emf.document(
        {names.MODEL: model, names.VERSION: outcome.version},
        (names.BY_MODEL, names.BY_VERSION),
        metrics,
        properties,
    )


def record_shadow(
    model: str,
    primary_version: str,
    outcome: ShadowOutcome,
    inference_id: str | None = None,
    write: LineWriter = write_stdout,
) -> None:
    """Emit one shadow comparison as an EMF record (no network call)."""
    write(emf.dumps(shadow_document(model, primary_version, outcome, inference_id)))
