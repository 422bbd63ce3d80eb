"""Where each passthrough field of a plain (unquoted) CSV block starts and ends.

Passthrough fields are never copied or decoded: the output points into the block's
bytes. Two ways to find them, all lines at once:
- `CommaIndex`: every comma's position; field c of a line lies between its commas c-1
  and c. Also counts each line's commas (the column-count check).
- `RegularFields`: every line is known to hold exactly `width` fields (one `loadtxt`
  over all columns proved it), so a first or last field is found by stepping from the
  line's edge; other fields fall back to a comma index whose per-line offsets are
  derived from the line number instead of searched.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

_COMMA = ord(",")
_NEWLINE = ord("\n")
# A passthrough field at a line's edge is found by stepping over at most this many bytes.
_SCAN_LIMIT = 48


def line_ends(data: bytes) -> np.ndarray:
    """Offset of every b"\\n" of the block."""
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE)


class Fields(Protocol):
    def span(self, col: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) byte offsets of field `col` on each of `rows` (well-shaped lines)."""
        ...


class CommaIndex:
    """Every comma's position: the fields of well-shaped lines. With `regular`, every line
    is known to hold exactly `width - 1` commas, so where each line's commas start follows
    from its number instead of a search."""

    def __init__(
        self, u: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int, regular: bool
    ) -> None:
        self.commas = np.flatnonzero(u == _COMMA)
        if regular:
            self.first = np.arange(starts.shape[0]) * (width - 1)
            self.counts = np.full(starts.shape[0], width - 1)
        else:
            self.first = np.searchsorted(self.commas, starts)
            self.counts = np.searchsorted(self.commas, ends) - self.first
        self.starts, self.ends, self.width = starts, ends, width

    def span(self, col: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Field c of a well-shaped line spans from after comma c-1 to comma c (or the end).
        base = self.first[rows]
        start = self.starts[rows] if col == 0 else self.commas[base + col - 1] + 1
        end = self.ends[rows] if col == self.width - 1 else self.commas[base + col]
        return start, end


class RegularFields:
    """Lines that all hold exactly `width` unquoted fields: edge fields are found by
    stepping from the line's start or end, others (or long ones) from a comma index."""

    def __init__(self, u: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> None:
        self.u, self.starts, self.ends, self.width = u, starts, ends, width
        self._index: CommaIndex | None = None  # built only if some field needs it

    def span(self, col: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if col == 0:
            start = self.starts[rows]
            end = _scan_to_comma(self.u, start, 1)
            if end is not None:
                return start, end
        elif col == self.width - 1:
            end = self.ends[rows]
            comma = _scan_to_comma(self.u, end - 1, -1)
            if comma is not None:
                return comma + 1, end
        if self._index is None:
            self._index = CommaIndex(self.u, self.starts, self.ends, self.width, regular=True)
        return self._index.span(col, rows)


def _scan_to_comma(u: np.ndarray, pos: np.ndarray, step: int) -> np.ndarray | None:
    """The first comma at or after (step 1) / before (step -1) each position, all lines at
    once; None if some field is longer than `_SCAN_LIMIT` (use the comma index instead)."""
    pos = pos.copy()
    todo = np.flatnonzero(u[pos] != _COMMA)
    for _ in range(_SCAN_LIMIT):
        if not todo.size:
            return pos
        pos[todo] += step
        todo = todo[u[pos[todo]] != _COMMA]
    return None if todo.size else pos
