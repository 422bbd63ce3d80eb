"""How a shadow's answer compares with the primary's, and where the comparison is recorded.

One outcome per shadowed request: `compared` with the fraction of rows whose class agrees
(classifiers) or the mean absolute difference of the first output (regressors); `timeout`
when the shadow missed its bound; `error` with what it raised or why the answers cannot be
compared. `log_outcome` writes it as one JSON log line on the function's log stream:

    {"level": "INFO", "message": "shadow compared", "model": "breast_cancer",
     "primary_version": "1", "version": "2", "shadow_status": "compared",
     "agreement": 1.0, "seconds": 0.0004, "inference_id": "..."}

(`version` is the shadow version, the candidate being judged.)
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambdaserve.dataplane.context import RequestContext

COMPARED = "compared"
ERROR = "error"
TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class ShadowOutcome:
    version: str  # the shadow version
    status: str  # compared | error | timeout
    agreement: float | None = None  # classifiers: fraction of rows with the same class
    absolute_difference: float | None = None  # regressors: mean |primary - shadow|
    seconds: float | None = None  # the shadow's own latency, when it answered
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}


def predicted_classes(outputs: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """Class per row: an integer label output if there is one, else argmax of probabilities."""
    for array in outputs.values():
        if array.ndim == 1 and np.issubdtype(array.dtype, np.integer):
            return array
    for array in outputs.values():
        if array.ndim == 2 and np.issubdtype(array.dtype, np.floating):
            return np.argmax(array, axis=1)
    return None


def compare(
    primary: Mapping[str, np.ndarray],
    shadow: Mapping[str, np.ndarray],
    classifier: bool,
    version: str,
    seconds: float | None = None,
) -> ShadowOutcome:
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


def log_outcome(ctx: RequestContext, outcome: ShadowOutcome) -> None:
    """One JSON line per comparison on stdout (the function's CloudWatch Logs stream)."""
    line = {
        "level": "INFO" if outcome.status == COMPARED else "WARNING",
        "message": f"shadow {outcome.status}",
        "model": ctx.model,
        "primary_version": ctx.selected_version,
        "shadow_status": outcome.status,
        **outcome.to_json(),
        "inference_id": ctx.inference_id,
    }
    sys.stdout.write(json.dumps(line) + "\n")
