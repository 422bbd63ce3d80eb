"""Turning JSON strings into BYTES tensors for text models: texts stay texts, nothing is coerced.

A text model's input is a BYTES tensor, usually [-1, 1] (one text per row). Callers send
rows as lists of strings (`["a review"]`, the seed-style row shape) or, for a model whose
rows hold one text, bare strings (`"a review"`); both read as the same tensor, so the
cache and the capture records see one canonical form whatever the protocol. Elements are
Python `str` in an object array: what onnxruntime takes for `tensor(string)`. (V2's binary
extension hands on `bytes` elements, which onnxruntime takes as well; the cache key reads
both as UTF-8, so a text keys alike whichever way it came.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lambdaserve.errors import InvalidInput
from lambdaserve.repository import TensorSpec


def string_rows(value: Any, spec: TensorSpec, what: str) -> np.ndarray:
    """Rows of texts for `spec` (rank 1 or 2): a list of strings or of equal lists of strings."""
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{what}: expected a non-empty list of texts")
    if all(type(v) is str for v in value):
        array = np.empty((len(value), 1), dtype=object)
        array[:, 0] = value
    else:
        width = len(value[0]) if type(value[0]) is list else -1
        if width < 1 or any(type(row) is not list or len(row) != width for row in value):
            raise InvalidInput(
                f"{what}: rows must be strings or equally long non-empty lists of strings"
            )
        array = np.empty((len(value), width), dtype=object)
        for i, row in enumerate(value):
            if not all(type(v) is str for v in row):
                raise InvalidInput(f"{what}: row {i} holds a value that is not a string")
            array[i, :] = row
    if len(spec.shape) == 1:
        if array.shape[1] != 1:
            raise InvalidInput(f"{what}: input {spec.name!r} takes one text per row")
        return array[:, 0]
    return array
