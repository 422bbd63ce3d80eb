"""CSV blocks -> feature matrix, passthrough columns and row errors.

The header names the columns; model features are found by name, every other column
passes through unchanged. A header-less file whose first line is exactly the model's
number of numeric fields is read as features in model order.

Fast path (a block without `"`): line and comma positions come from numpy, the column
count of every line is checked at once, and numpy's C `loadtxt` parses the features.
If `loadtxt` rejects a block, it is bisected down to small runs parsed row by row, so
each bad row is reported with its exact line and reason and every good row is kept.
Blocks with quoted fields go through the `csv` module, row by row.

Whole-block mode (the parser process) first tries `loadtxt` on every column: when all
columns are numeric (ids, say), that one call also proves every line has exactly the
header's width, so passthrough fields are found from the line ends alone instead of
indexing every comma of the block.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from lambdaserve.batch.rows import ParsedBlock, RowError, UnreadableInput, excerpt
from lambdaserve.batch.stream import Block
from lambdaserve.batch.texts import Texts

_NUMBER = re.compile(
    r"^\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity))\s*$",
    re.IGNORECASE,
)
_COMMA = ord(",")
_NEWLINE = ord("\n")
# Below this many lines a rejected run is parsed row by row instead of bisected further.
_ROW_BY_ROW = 64
_LOADTXT_LINES = 1024
# A passthrough field at a line's edge is found by stepping over at most this many bytes.
_SCAN_LIMIT = 48


@dataclass(frozen=True)
class CsvLayout:
    names: tuple[str, ...]  # every column, as the header names it (generated if none)
    features: tuple[int, ...]  # column index of each model feature, in model order
    passthrough: tuple[int, ...]  # the other columns, in file order
    has_header: bool

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def passthrough_names(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.passthrough)


def is_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def read_header(line: bytes, feature_names: Sequence[str]) -> CsvLayout:
    """Decide what the first line is; raises UnreadableInput if it fits neither shape."""
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UnreadableInput("the first line is not UTF-8 text: not a CSV file") from exc
    if not text.strip():
        raise UnreadableInput("the first line is empty: a CSV file must start with a header")
    try:
        fields = next(csv.reader([text]))
    except csv.Error as exc:
        raise UnreadableInput(f"the first line is not valid CSV: {exc}") from exc
    names = [f.strip() for f in fields]
    wanted = {name: i for i, name in enumerate(feature_names)}
    if not any(name in wanted for name in names):
        if len(names) == len(feature_names) and all(is_number(f) for f in fields):
            generated = tuple(f"column_{i + 1}" for i in range(len(names)))
            return CsvLayout(generated, tuple(range(len(names))), (), has_header=False)
        raise UnreadableInput(
            f"the header names none of the model's {len(feature_names)} features "
            f"({_listing(feature_names)}), and the first line is not a header-less row of "
            f"{len(feature_names)} numbers (it has {len(fields)} fields)"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in wanted and name in seen:
            raise UnreadableInput(f"feature column {name!r} appears twice in the header")
        seen.setdefault(name, i)
    missing = [n for n in feature_names if n not in seen]
    if missing:
        raise UnreadableInput(f"the header lacks feature column(s): {_listing(missing)}")
    features = tuple(seen[n] for n in feature_names)
    taken = set(features)
    passthrough = tuple(i for i in range(len(names)) if i not in taken)
    return CsvLayout(tuple(names), features, passthrough, has_header=True)


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


@dataclass
class Prepared:
    """A block after the GIL-bound half of parsing (see `CsvReader.prepare`)."""

    data: bytes
    first_line: int
    values: np.ndarray  # float32 [lines, n_features]; meaningful where `ok`
    ok: np.ndarray  # bool [lines]: parsed (not yet checked for column count / finiteness)
    errors: list[RowError]
    done: ParsedBlock | None = None  # quoted blocks are parsed completely up front
    # Every line is known to hold exactly `width` fields without quotes (see module doc).
    regular: bool = False
    ends: np.ndarray | None = None  # offset of every b"\n", when already known


class CsvReader:
    """`parse = finish(prepare(block))`. The job runs `prepare` (numpy's `loadtxt`, which
    holds the GIL) on its reading thread and `finish` (array work that mostly releases
    it) next to the model on the worker thread, so both threads carry similar load."""

    def __init__(self, layout: CsvLayout, *, whole_blocks: bool = False) -> None:
        self.layout = layout
        # One `loadtxt` call over the whole block first (no line split): for a process
        # that parses and nothing else. A block it rejects takes the usual path.
        self.whole_blocks = whole_blocks

    def parse(self, block: Block) -> ParsedBlock:
        return self.finish(self.prepare(block))

    def prepare(self, block: Block) -> Prepared:
        data = block.data
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        if b'"' in data or b"\r" in data:
            done = self._parse_with_csv_module(data, block.first_line)
            return Prepared(data, block.first_line, done.features, np.ones(0, bool), [], done)
        if self.whole_blocks:
            ends = _line_ends(data)
            whole = self._whole_block(data, ends.shape[0])
            if whole is not None:
                values, regular = whole
                ok = np.ones(values.shape[0], dtype=bool)
                return Prepared(data, block.first_line, values, ok, [], None, regular, ends)
        lines = data.split(b"\n")
        lines.pop()
        values = np.zeros((len(lines), len(self.layout.features)), dtype=np.float32)
        ok = np.ones(len(lines), dtype=bool)
        errors: list[RowError] = []
        # Short loadtxt calls: it holds the GIL, and the model thread needs it between runs.
        for lo in range(0, len(lines), _LOADTXT_LINES):
            hi = min(lo + _LOADTXT_LINES, len(lines))
            self._bisect(lines, lo, hi, values, ok, errors, block.first_line)
        return Prepared(data, block.first_line, values, ok, errors)

    def _loadtxt(self, source: io.BytesIO | list[bytes], every_column: bool = False) -> np.ndarray:
        """numpy's C reader on the feature columns; ValueError on any bad field.

        With `every_column`, all columns are parsed and a line of another width is a
        ValueError too.
        """
        parsed: np.ndarray = np.loadtxt(
            source,
            delimiter=",",
            dtype=np.float32,
            usecols=None if every_column else self.layout.features,
            comments=None,
            quotechar=None,
            ndmin=2,
        )
        return parsed

    def _whole_block(self, data: bytes, count: int) -> tuple[np.ndarray, bool] | None:
        """(features, regular) for all `count` lines at once; None if a line needs the
        careful path. loadtxt skips blank lines: a short result means rows moved."""
        if count == 0 or data[:1] == b"\n":
            return None  # (a block of blank lines only would make loadtxt warn)
        layout = self.layout
        try:
            # A non-numeric passthrough column fails at once, on the first line.
            table = self._loadtxt(io.BytesIO(data), every_column=True)
        except ValueError:
            table = None
        if table is not None:
            if table.shape[0] != count:
                return None  # blank lines
            if table.shape[1] == layout.width:
                if layout.features == tuple(range(layout.width)):
                    return table, True
                return np.ascontiguousarray(table[:, layout.features]), True
        try:
            parsed = self._loadtxt(io.BytesIO(data))
        except ValueError:
            return None
        return (parsed, False) if parsed.shape[0] == count else None

    def finish(self, prepared: Prepared) -> ParsedBlock:
        if prepared.done is not None:
            return prepared.done
        data, first_line, width = prepared.data, prepared.first_line, self.layout.width
        u = np.frombuffer(data, dtype=np.uint8)
        ends = prepared.ends if prepared.ends is not None else _line_ends(data)
        starts = np.empty_like(ends)
        starts[:1] = 0
        starts[1:] = ends[:-1] + 1
        ok = prepared.ok.copy()
        errors = list(prepared.errors)
        fields: _Fields
        if prepared.regular:
            fields = _RegularFields(u, starts, ends, width)
        else:
            index = _CommaIndex(u, starts, ends, width, regular=False)
            fields = index
            # loadtxt reads the feature columns only: a line with extra (or missing trailing
            # passthrough) columns gets past it, and is caught here.
            for i in np.flatnonzero(ok & (index.counts != width - 1)):
                reason = f"expected {width} columns, found {int(index.counts[i]) + 1}"
                errors.append(
                    RowError(first_line + int(i), reason, excerpt(data[starts[i] : ends[i]]))
                )
                ok[i] = False
        finite = np.isfinite(prepared.values).all(axis=1)
        for i in np.flatnonzero(ok & ~finite):
            col = int(np.flatnonzero(~np.isfinite(prepared.values[i]))[0])
            name = self.layout.names[self.layout.features[col]]
            reason = f"column {name!r} is not a finite number"
            errors.append(RowError(first_line + int(i), reason, excerpt(data[starts[i] : ends[i]])))
            ok[i] = False
        errors.sort(key=lambda e: e.line)
        every = bool(ok.all())
        kept = np.arange(ok.shape[0]) if every else np.flatnonzero(ok)
        passthrough = [Texts(u, *fields.span(col, kept)) for col in self.layout.passthrough]
        values = prepared.values if every else prepared.values[kept]
        blanks = int(np.count_nonzero(ends == starts))
        return ParsedBlock(values, first_line + kept, passthrough, None, errors, blanks)

    def _bisect(
        self,
        lines: list[bytes],
        lo: int,
        hi: int,
        values: np.ndarray,
        ok: np.ndarray,
        errors: list[RowError],
        first_line: int,
    ) -> None:
        if lo >= hi:
            return
        if hi - lo > _ROW_BY_ROW:
            try:
                parsed = self._loadtxt(lines[lo:hi])
            except ValueError:
                parsed = None
            # loadtxt skips blank lines: a short result means rows moved, so go finer.
            if parsed is not None and parsed.shape[0] == hi - lo:
                values[lo:hi] = parsed
                return
            mid = (lo + hi) // 2
            self._bisect(lines, lo, mid, values, ok, errors, first_line)
            self._bisect(lines, mid, hi, values, ok, errors, first_line)
            return
        width = self.layout.width
        for i in range(lo, hi):
            line = lines[i]
            if not line:
                ok[i] = False  # blank: counted in `finish`, not an error
                continue
            fields = line.split(b",")
            if len(fields) != width:
                reason = f"expected {width} columns, found {len(fields)}"
            else:
                # The same parser as for whole runs: a row is accepted wherever it is read.
                try:
                    row = self._loadtxt([line])
                except ValueError:
                    row = None
                if row is not None and row.shape[0] == 1:  # (no row: a line it skipped)
                    values[i] = row[0]
                    continue
                decoded = [f.decode("utf-8", "replace") for f in fields]
                reason = self._row_values(decoded)[1] or "a feature is not a number"
            ok[i] = False
            errors.append(RowError(first_line + i, reason, excerpt(line)))

    def _row_values(self, fields: Sequence[str]) -> tuple[list[float] | None, str]:
        out = []
        for col in self.layout.features:
            text = fields[col]
            name = self.layout.names[col]
            if not text.strip():
                return None, f"column {name!r} is empty (missing value)"
            if not is_number(text):
                return None, f"column {name!r} is not a number: {excerpt(text)!r}"
            out.append(float(text))
        return out, ""

    # ---------------------------------------------------------------- quoted fields
    def _parse_with_csv_module(self, data: bytes, first_line: int) -> ParsedBlock:
        width = self.layout.width
        text = data.decode("utf-8", "surrogateescape")
        reader = csv.reader(io.StringIO(text, newline=""))
        features: list[list[float]] = []
        lines: list[int] = []
        passthrough: list[list[bytes]] = [[] for _ in self.layout.passthrough]
        errors: list[RowError] = []
        consumed = 0
        blanks = 0
        while True:
            line = first_line + consumed
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                consumed = reader.line_num
                errors.append(RowError(line, f"malformed CSV: {exc}", ""))
                continue
            consumed = reader.line_num
            if not fields:
                blanks += 1
                continue
            if len(fields) != width:
                reason = f"expected {width} columns, found {len(fields)}"
                errors.append(RowError(line, reason, excerpt(_encode_row(fields))))
                continue
            parsed, reason = self._row_values(fields)
            if parsed is None or not np.isfinite(np.asarray(parsed, dtype=np.float32)).all():
                reason = reason or "a feature is not a finite number"
                errors.append(RowError(line, reason, excerpt(_encode_row(fields))))
                continue
            features.append(parsed)
            lines.append(line)
            for out, col in zip(passthrough, self.layout.passthrough, strict=True):
                out.append(_encode_field(fields[col]))
        matrix = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
        if matrix.shape[1] != len(self.layout.features):
            matrix = np.zeros((0, len(self.layout.features)), dtype=np.float32)
        return ParsedBlock(
            matrix,
            np.asarray(lines, dtype=np.int64),
            [Texts.from_list(col) for col in passthrough],
            None,
            errors,
            blanks,
        )


def _line_ends(data: bytes) -> np.ndarray:
    return np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE)


class _Fields(Protocol):
    def span(self, col: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) byte offsets of field `col` on each of `rows` (well-shaped lines)."""
        ...


class _CommaIndex:
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


class _RegularFields:
    """Lines that all hold exactly `width` unquoted fields: edge fields are found by
    stepping from the line's start or end, others (or long ones) from a comma index."""

    def __init__(self, u: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> None:
        self.u, self.starts, self.ends, self.width = u, starts, ends, width
        self._index: _CommaIndex | None = None  # built only if some field needs it

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
            self._index = _CommaIndex(self.u, self.starts, self.ends, self.width, regular=True)
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


_SPECIAL = re.compile(r'[,"\r\n]')


def _encode_field(field: str) -> bytes:
    """One field as CSV writes it (quoted only when needed), original bytes preserved."""
    if _SPECIAL.search(field):
        field = '"' + field.replace('"', '""') + '"'
    return field.encode("utf-8", "surrogateescape")


def _encode_row(fields: Sequence[str]) -> bytes:
    return b",".join(_encode_field(f) for f in fields)


def encode_names(names: Sequence[str]) -> list[bytes]:
    return [_encode_field(n) for n in names]
