"""Turning JSON values into numpy arrays strictly: numbers stay numbers, nothing is guessed."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lambdaserve.datatypes import FLOAT_MAX
from lambdaserve.errors import InvalidInput

# Up to this many values, lists are checked in Python (a few µs for one row) instead of by
# numpy's type discovery plus the boolean and finiteness passes (~15 µs whatever the size).
SMALL_VALUES = 256
_EXACT_INT = 2**53  # every int up to this magnitude is exactly a float64
_FLOAT = frozenset({float})
_FLOAT_INT = frozenset({float, int})
_FLOAT64 = np.dtype(np.float64)


def numeric_array(value: Any, what: str, dtype: np.dtype[Any] | None = None) -> np.ndarray:
    """A rectangular numeric array from nested JSON lists; no strings, bools or ragged rows.

    `dtype`: the model input's. A few floats that fit it are read straight into it (JSON
    numbers into FP32: rounded once, as a cast from float64 would), so neither the cache
    key nor the model casts them again; anything else comes back as numpy reads it, and
    the model casts it, checking that nothing is lost.
    """
    small = small_floats(value, dtype if dtype is not None and dtype.kind == "f" else _FLOAT64)
    if small is not None:
        return small
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidInput(f"{what}: rows must all have the same length") from None
    if array.dtype.kind not in "iuf":
        raise InvalidInput(f"{what}: values must be numbers{_found(array)}")
    if has_bools(value, array):
        raise InvalidInput(f"{what}: values must be numbers (got booleans)")
    return array  # finiteness and width are the model's checks, made once for every caller


def small_floats(value: Any, dtype: np.dtype[Any] = _FLOAT64) -> np.ndarray | None:
    """A few JSON numbers as a float array, exactly as numpy's general path reads them; else None.

    Only the common case: a non-empty flat list, or list of equally long lists, of floats
    (perhaps with ints a float64 holds exactly: numpy reads such rows as float64), all finite
    and within `dtype`'s range. Anything else (bools, strings, nulls, big ints, ragged or
    deeper nesting, all ints, ...) returns None for the general path, which names the problem.
    """
    if type(value) is not list or not value:
        return None
    rows: list[Any] = value if type(value[0]) is list else [value]
    width = len(rows[0])
    if not width or len(rows) * width > SMALL_VALUES:
        return None
    kinds: set[type] = set()
    for row in rows:
        if type(row) is not list or len(row) != width:
            return None
        kinds.update(map(type, row))
    if kinds != _FLOAT:
        if kinds != _FLOAT_INT:
            return None
        for row in rows:
            for v in row:
                if type(v) is int and not -_EXACT_INT <= v <= _EXACT_INT:
                    return None
    limit = FLOAT_MAX.get(dtype)
    if limit is None:
        return None
    for row in rows:
        # A finite sum proves every term finite (an overflowing one only costs the slow path).
        if not (math.isfinite(sum(row)) and -limit <= min(row) and max(row) <= limit):
            return None
    return np.array(value, dtype=dtype)


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
