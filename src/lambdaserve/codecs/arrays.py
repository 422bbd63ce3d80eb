"""Turning JSON values into numpy arrays strictly: numbers stay numbers, nothing is guessed."""

from __future__ import annotations

from typing import Any

import numpy as np

from lambdaserve.errors import InvalidInput


def numeric_array(value: Any, what: str) -> np.ndarray:
    """A rectangular numeric array from nested JSON lists; no strings, bools or ragged rows."""
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what}: rows must all have the same length") from None
    if array.dtype.kind not in "iuf":
        raise InvalidInput(f"{what}: values must be numbers{_found(array)}")
    if has_bools(value, array):
        raise InvalidInput(f"{what}: values must be numbers (got booleans)")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidInput(f"{what}: NaN or infinite values are not allowed")
    return array


def has_bools(value: Any, array: np.ndarray) -> bool:
    """Whether JSON booleans hid among the numbers (numpy reads them as 1 and 0).

    Only positions holding 0 or 1 can be booleans, so continuous data costs two vector ops.
    """
    mask = (array == 0) | (array == 1)
    if not mask.any():
        return False
    if array.ndim == 2 and isinstance(value, list):
        rows = np.flatnonzero(mask.any(axis=1)).tolist()
        return any(bool in set(map(type, value[r])) for r in rows)
    for index in np.argwhere(mask).tolist():
        item = value
        for i in index:
            item = item[i]
        if isinstance(item, bool | np.bool_):
            return True
    return False


def _found(array: np.ndarray) -> str:
    if array.dtype.kind == "b":
        return " (got booleans)"
    if array.dtype.kind in "US":
        return " (got strings)"
    if array.dtype.kind == "O":
        return " (got nulls, objects or mixed types)"
    return ""
