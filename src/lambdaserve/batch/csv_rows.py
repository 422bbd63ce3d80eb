"""CSV one row at a time: the careful paths, used where whole-block parsing cannot go.

- `parse_quoted`: blocks with `"` or CR, through the `csv` module (quoted fields may
  hold commas and line breaks; the output re-encodes passthrough fields as CSV does).
- `feature_values`: why a row's feature fields are not numbers, for the error report.
- `read_rows`: the row loop both share with the text model's CSV reader (text_rows).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import numpy as np

from lambdaserve.batch.blocks import ParsedBlock, RowError, excerpt
from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_header import CsvLayout, encode_field, encode_row, is_number


def feature_values(layout: CsvLayout, fields: Sequence[str]) -> tuple[list[float] | None, str]:
    """The row's features in model order, or None and the first field's problem."""
    out = []
    for col in layout.features:
        text = fields[col]
        name = layout.names[col]
        if not text.strip():
            return None, f"column {name!r} is empty (missing value)"
        if not is_number(text):
            return None, f"column {name!r} is not a number: {excerpt(text)!r}"
        out.append(float(text))
    return out, ""


T = TypeVar("T")
# A row's features in model order, or None and why the row is refused.
RowFeatures = Callable[[Sequence[str]], tuple[list[T] | None, str]]


@dataclass
class CsvRows(Generic[T]):
    """What the row loop read from one block: accepted rows' features, lines, passthrough."""

    features: list[list[T]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    passthrough: list[list[bytes]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    blanks: int = 0

    def parsed(self, matrix: np.ndarray) -> ParsedBlock[list[ByteColumn]]:
        return ParsedBlock(
            matrix,
            np.asarray(self.lines, dtype=np.int64),
            [ByteColumn.from_list(col) for col in self.passthrough],
            self.errors,
            self.blanks,
        )


def read_rows(
    layout: CsvLayout, text: str, first_line: int, features_of: RowFeatures[T]
) -> CsvRows[T]:
    """Every row of `text` through the `csv` module: blank lines counted, rows of the wrong
    width or with features `features_of` refuses reported with their input line numbers."""
    width = layout.width
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: CsvRows[T] = CsvRows(passthrough=[[] for _ in layout.passthrough])
    consumed = 0
    while True:
        line = first_line + consumed
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            consumed = reader.line_num
            rows.errors.append(RowError(line, f"malformed CSV: {exc}", ""))
            continue
        consumed = reader.line_num
        if not fields:
            rows.blanks += 1
            continue
        if len(fields) != width:
            reason = f"expected {width} columns, found {len(fields)}"
            rows.errors.append(RowError(line, reason, excerpt(encode_row(fields))))
            continue
        values, reason = features_of(fields)
        if values is None:
            rows.errors.append(RowError(line, reason, excerpt(encode_row(fields))))
            continue
        rows.features.append(values)
        rows.lines.append(line)
        for out, col in zip(rows.passthrough, layout.passthrough, strict=True):
            out.append(encode_field(fields[col]))
    return rows


def parse_quoted(layout: CsvLayout, data: bytes, first_line: int) -> ParsedBlock[list[ByteColumn]]:
    def finite_features(fields: Sequence[str]) -> tuple[list[float] | None, str]:
        parsed, reason = feature_values(layout, fields)
        if parsed is None or not np.isfinite(np.asarray(parsed, dtype=np.float32)).all():
            return None, reason or "a feature is not a finite number"
        return parsed, ""

    text = data.decode("utf-8", "surrogateescape")
    rows = read_rows(layout, text, first_line, finite_features)
    matrix = np.asarray(rows.features, dtype=np.float32).reshape(len(rows.features), -1)
    if matrix.shape[1] != len(layout.features):
        matrix = np.zeros((0, len(layout.features)), dtype=np.float32)
    return rows.parsed(matrix)
