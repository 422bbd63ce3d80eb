"""A column of byte strings without a Python object per string, and one-shot line assembly.

Formatting a million output lines one `%`-format at a time costs more than the model
itself. Here a column is a buffer plus (start, end) ranges, numbers are rendered with
array arithmetic, and `join_rows` builds every line of a block with a single gather.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

_ZERO = ord("0")
_MINUS = ord("-")
_DOT = ord(".")


@dataclass(frozen=True)
class ByteColumn:
    """n byte strings: row i is `buffer[starts[i]:ends[i]]`."""

    buffer: np.ndarray  # uint8
    starts: np.ndarray  # int64 [n]
    ends: np.ndarray  # int64 [n]

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    @classmethod
    def from_list(cls, items: Sequence[bytes]) -> ByteColumn:
        lengths = np.fromiter(map(len, items), dtype=np.int64, count=len(items))
        ends = np.cumsum(lengths)
        return cls(np.frombuffer(b"".join(items), dtype=np.uint8), ends - lengths, ends)

    @classmethod
    def table(cls, entries: Sequence[bytes], index: np.ndarray) -> ByteColumn:
        """Row i is `entries[index[i]]` (class labels, class numbers)."""
        lookup = cls.from_list(entries)
        idx = np.asarray(index, dtype=np.int64)
        return cls(lookup.buffer, lookup.starts[idx], lookup.ends[idx])

    @classmethod
    def integers(cls, values: np.ndarray) -> ByteColumn:
        """Decimal text of int64 values, as `str(int)` would write them."""
        v = np.asarray(values, dtype=np.int64)
        magnitude = np.abs(v).astype(np.uint64)  # |INT64_MIN| wraps to its true uint64 value
        width = _width(magnitude)
        matrix = np.empty((v.shape[0], width + 1), dtype=np.uint8)
        digits = _digits(matrix, magnitude, width)
        return _signed(matrix, v < 0, width + 1 - digits, width + 1)

    @classmethod
    def decimals(cls, values: np.ndarray, places: int) -> ByteColumn:
        """Fixed-point text rounded to `places` decimals, trailing zeros trimmed ("0.5", "1.0").

        For bounded values such as probabilities: |value| must stay below 1e12.
        """
        v = np.asarray(values, dtype=np.float64)
        if v.size and not (np.isfinite(v).all() and np.abs(v).max() < 1e12):
            raise ValueError("decimals() needs finite values below 1e12")
        scale = 10**places
        scaled = np.rint(np.abs(v) * scale).astype(np.uint64)
        whole, frac = scaled // scale, scaled % scale
        width = _width(whole)
        n = v.shape[0]
        matrix = np.empty((n, width + 2 + places), dtype=np.uint8)
        digits = _digits(matrix, whole, width)
        matrix[:, width + 1] = _DOT
        trailing = np.zeros(n, dtype=np.int64)
        zeros_so_far = np.ones(n, dtype=bool)
        for col in range(width + 1 + places, width + 1, -1):
            digit = frac % 10
            matrix[:, col] = _ZERO + digit.astype(np.uint8)
            frac = frac // 10
            zeros_so_far &= digit == 0
            trailing += zeros_so_far
        ends = width + 2 + places - np.minimum(trailing, places - 1)
        return _signed(matrix, (v < 0) & (scaled != 0), width + 1 - digits, ends)

    def take(self, index: np.ndarray) -> ByteColumn:
        return ByteColumn(self.buffer, self.starts[index], self.ends[index])

    def to_list(self) -> list[bytes]:
        raw = self.buffer.tobytes()
        return [raw[s:e] for s, e in zip(self.starts.tolist(), self.ends.tolist(), strict=True)]


def _width(magnitude: np.ndarray) -> int:
    return len(str(int(magnitude.max()))) if magnitude.size else 1


def _digits(matrix: np.ndarray, magnitude: np.ndarray, last: int) -> np.ndarray:
    """Write right-aligned decimal digits ending at column `last`; returns digit counts."""
    rest = magnitude.copy()
    count = np.ones(magnitude.shape[0], dtype=np.int64)
    for col in range(last, 0, -1):
        matrix[:, col] = _ZERO + (rest % 10).astype(np.uint8)
        rest //= 10
        count += rest > 0
    return count


def _signed(matrix: np.ndarray, negative: np.ndarray, first: np.ndarray, ends: Any) -> ByteColumn:
    """Rows of `matrix` from `first` (minus one for a sign) to `ends`, as a column."""
    width = matrix.shape[1]
    first = first - negative
    matrix[np.flatnonzero(negative), first[negative]] = _MINUS
    row0 = np.arange(matrix.shape[0], dtype=np.int64) * width
    return ByteColumn(matrix.ravel(), row0 + first, row0 + ends)


def join_rows(columns: Sequence[ByteColumn], sep: bytes = b",", end: bytes = b"\n") -> bytes:
    """`sep.join(row) + end` for every row: each column is copied into place at once."""
    if not columns:
        raise ValueError("join_rows needs at least one column")
    n = len(columns[0])
    for i, column in enumerate(columns):
        if len(column) != n:
            raise ValueError(f"column {i} has {len(column)} rows, expected {n}")
    if n == 0:
        return b""
    lengths = [column.ends - column.starts for column in columns]
    row_bytes = sum(lengths) + (len(sep) * (len(columns) - 1) + len(end))
    offset = np.cumsum(row_bytes) - row_bytes  # where each row starts in the output
    out = np.empty(int(offset[-1] + row_bytes[-1]), dtype=np.uint8)
    for i, (column, length) in enumerate(zip(columns, lengths, strict=True)):
        _place(out, offset, column, length)
        offset += length
        for byte in end if i == len(columns) - 1 else sep:
            out[offset] = byte
            offset += 1
    return out.tobytes()


# Columns at most this wide are copied as an (n, width) grid; wider ones byte by byte.
_GRID_WIDTH = 32


def _place(out: np.ndarray, offset: np.ndarray, column: ByteColumn, length: np.ndarray) -> None:
    """Copy row i of `column` to `out[offset[i]:offset[i] + length[i]]`."""
    width = int(length.max())
    if width == 0:
        return
    if width <= _GRID_WIDTH:
        step = np.arange(width)
        if int(length.min()) == width:
            out[offset[:, None] + step] = column.buffer[column.starts[:, None] + step]
            return
        inside = step < length[:, None]
        out[(offset[:, None] + step)[inside]] = column.buffer[
            (column.starts[:, None] + step)[inside]
        ]
        return
    before = np.cumsum(length) - length
    within = np.arange(int(before[-1] + length[-1])) - np.repeat(before, length)
    out[np.repeat(offset, length) + within] = column.buffer[
        np.repeat(column.starts, length) + within
    ]
