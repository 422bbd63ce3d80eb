"""What a model predicted, per row, in the neutral vocabulary feedback and shadows compare.

A classifier's prediction is its class value per row (its `label` output, else the argmax
of its scores); a regressor's is its first output's value(s) per row.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def predicted_classes(outputs: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """A classifier's class per row: its `label` output, else the argmax of its scores."""
    label = outputs.get("label")
    if label is not None:
        return np.ravel(label)
    for array in outputs.values():
        if array.dtype.kind == "f" and array.ndim == 2:
            return np.argmax(array, axis=1)
    return None


def predicted_rows(outputs: Mapping[str, np.ndarray], classifier: bool) -> list[Any] | None:
    """One JSON-ready prediction per row (class value, number, or list of numbers)."""
    if classifier:
        classes = predicted_classes(outputs)
        return None if classes is None else classes.tolist()
    first = next(iter(outputs.values()), None)
    if first is None or first.ndim == 0 or first.dtype.kind not in "fiub":
        return None
    rows = first.reshape(first.shape[0], -1).astype(np.float64)
    return rows[:, 0].tolist() if rows.shape[1] == 1 else rows.tolist()
