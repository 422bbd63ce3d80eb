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
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InvalidInput(f"{what}: NaN or infinite values are not allowed")
    return array


def _found(array: np.ndarray) -> str:
    if array.dtype.kind == "b":
        return " (got booleans)"
    if array.dtype.kind in "US":
        return " (got strings)"
    if array.dtype.kind == "O":
        return " (got nulls, objects or mixed types)"
    return ""
