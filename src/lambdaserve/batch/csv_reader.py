"""CSV blocks -> feature matrix, passthrough columns and row errors.

`parse = finish(prepare(block))`: `prepare` holds the GIL (numpy's `loadtxt`) and runs on
the reading thread or in the parser process (`parse_worker`); `finish` is array work that
mostly releases it, beside the model. A block takes the first strategy that applies:

| block                            | prepare                           | finish               |
|----------------------------------|-----------------------------------|----------------------|
| has `"` or CR                    | `csv` module, row by row          | (done)               |
|                                  | (`csv_rows.parse_quoted`)         |                      |
| `whole_blocks` (parser process), | one `loadtxt` over every column:  | fields from the line |
| every column numeric             | proves each line `width` wide     | edges (RegularFields)|
| `whole_blocks`, no blank line,   | one `loadtxt` over the features   | comma index          |
| every feature a number           |                                   | (CommaIndex)         |
| anything else                    | `loadtxt` per 1,024 lines; a      | comma index          |
|                                  | rejected run is bisected to 64    |                      |
|                                  | lines, then read row by row       |                      |

`finish` also rejects rows with a wrong column count (loadtxt reads the feature columns
only) and rows with a non-finite feature. A row is accepted or rejected alike whichever
strategy reads it (the tests compare the paths).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from lambdaserve.batch.blocks import Block, ParsedBlock, RowError, excerpt
from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_fields import CommaIndex, Fields, RegularFields, line_ends
from lambdaserve.batch.csv_header import CsvLayout
from lambdaserve.batch.csv_rows import feature_values, parse_quoted

# Below this many lines a rejected run is parsed row by row instead of bisected further.
_ROW_BY_ROW = 64
_LOADTXT_LINES = 1024

CsvBlock = ParsedBlock[list[ByteColumn]]


@dataclass
class Prepared:
    """A block after the GIL-bound half of parsing (see the module's table)."""

    data: bytes
    first_line: int
    values: np.ndarray  # float32 [lines, n_features]; meaningful where `ok`
    ok: np.ndarray  # bool [lines]: parsed (not yet checked for column count / finiteness)
    errors: list[RowError]
    done: CsvBlock | None = None  # quoted blocks are parsed completely up front
    # Every line is known to hold exactly `width` fields without quotes.
    regular: bool = False
    ends: np.ndarray | None = None  # offset of every b"\n", when already known


class CsvReader:
    parses_elsewhere = False  # (see `formats.BlockReader`)

    def __init__(self, layout: CsvLayout, *, whole_blocks: bool = False) -> None:
        self.layout = layout
        # One `loadtxt` call over the whole block first (no line split): for a process
        # that parses and nothing else. A block it rejects takes the usual path.
        self.whole_blocks = whole_blocks

    def parse(self, block: Block) -> CsvBlock:
        return self.finish(self.prepare(block))

    def prepare(self, block: Block) -> Prepared:
        data = block.data
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        if b'"' in data or b"\r" in data:
            done = parse_quoted(self.layout, data, block.first_line)
            return Prepared(data, block.first_line, done.features, np.ones(0, bool), [], done)
        if self.whole_blocks:
            ends = line_ends(data)
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

    def finish(self, prepared: Prepared) -> CsvBlock:
        if prepared.done is not None:
            return prepared.done
        data, first_line, width = prepared.data, prepared.first_line, self.layout.width
        u = np.frombuffer(data, dtype=np.uint8)
        ends = prepared.ends if prepared.ends is not None else line_ends(data)
        starts = np.empty_like(ends)
        starts[:1] = 0
        starts[1:] = ends[:-1] + 1
        ok = prepared.ok.copy()
        errors = list(prepared.errors)
        fields: Fields
        if prepared.regular:
            fields = RegularFields(u, starts, ends, width)
        else:
            index = CommaIndex(u, starts, ends, width, regular=False)
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
        passthrough = [ByteColumn(u, *fields.span(col, kept)) for col in self.layout.passthrough]
        values = prepared.values if every else prepared.values[kept]
        blanks = int(np.count_nonzero(ends == starts))
        return ParsedBlock(values, first_line + kept, passthrough, errors, blanks)

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
                reason = feature_values(self.layout, decoded)[1] or "a feature is not a number"
            ok[i] = False
            errors.append(RowError(first_line + i, reason, excerpt(line)))
