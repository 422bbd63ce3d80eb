"""CSV one row at a time: the careful paths, used where whole-block parsing cannot go.

- `parse_quoted`: blocks with `"` or CR, through the `csv` module (quoted fields may
  hold commas and line breaks; the output re-encodes passthrough fields as CSV does).
- `feature_values`: why a row's feature fields are not numbers, for the error report.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

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


def parse_quoted(layout: CsvLayout, data: bytes, first_line: int) -> ParsedBlock[list[ByteColumn]]:
    width = layout.width
    text = data.decode("utf-8", "surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""))
    features: list[list[float]] = []
    lines: list[int] = []
    passthrough: list[list[bytes]] = [[] for _ in layout.passthrough]
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
            errors.append(RowError(line, reason, excerpt(encode_row(fields))))
            continue
        parsed, reason = feature_values(layout, fields)
        if parsed is None or not np.isfinite(np.asarray(parsed, dtype=np.float32)).all():
            reason = reason or "a feature is not a finite number"
            errors.append(RowError(line, reason, excerpt(encode_row(fields))))
            continue
        features.append(parsed)
        lines.append(line)
        for out, col in zip(passthrough, layout.passthrough, strict=True):
            out.append(encode_field(fields[col]))
    matrix = np.asarray(features, dtype=np.float32).reshape(len(features), -1)
    if matrix.shape[1] != len(layout.features):
        matrix = np.zeros((0, len(layout.features)), dtype=np.float32)
    return ParsedBlock(
        matrix,
        np.asarray(lines, dtype=np.int64),
        [ByteColumn.from_list(col) for col in passthrough],
        errors,
        blanks,
    )
