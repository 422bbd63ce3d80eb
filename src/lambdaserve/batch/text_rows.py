"""Readers for a text model's batch input: the feature columns hold texts, not numbers.

CSV goes through the `csv` module row by row (texts carry commas, quotes and line breaks;
numpy's number readers have nothing to do here); JSON Lines rows are read as for numbers,
with string values. Either gives the block's texts as an object array [rows, features],
the BYTES tensor a text model takes; passthrough columns and keys, the writers and the
error report are the numeric readers' own.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np
import orjson

from lambdaserve.batch.blocks import Block, ParsedBlock, RowError, excerpt
from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_header import CsvLayout, encode_field, encode_row
from lambdaserve.batch.jsonl_reader import JsonlReader, json_type


def is_text_model(datatype: str) -> bool:
    return datatype == "BYTES"


class TextCsvReader:
    parses_elsewhere = False  # (see `formats.BlockReader`)

    def __init__(self, layout: CsvLayout) -> None:
        self.layout = layout

    def prepare(self, block: Block) -> ParsedBlock[list[ByteColumn]]:
        return self.parse(block)

    def finish(self, parsed: ParsedBlock[list[ByteColumn]]) -> ParsedBlock[list[ByteColumn]]:
        return parsed

    def parse(self, block: Block) -> ParsedBlock[list[ByteColumn]]:
        layout, width = self.layout, self.layout.width
        reader = csv.reader(io.StringIO(block.data.decode("utf-8", "replace"), newline=""))
        texts: list[list[str]] = []
        lines: list[int] = []
        passthrough: list[list[bytes]] = [[] for _ in layout.passthrough]
        errors: list[RowError] = []
        consumed = blanks = 0
        while True:
            line = block.first_line + consumed
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
            row = [fields[col] for col in layout.features]
            empty = next(
                (c for c, text in zip(layout.features, row, strict=True) if not text), None
            )
            if empty is not None:
                reason = f"column {layout.names[empty]!r} is empty (missing text)"
                errors.append(RowError(line, reason, excerpt(encode_row(fields))))
                continue
            texts.append(row)
            lines.append(line)
            for out, col in zip(passthrough, layout.passthrough, strict=True):
                out.append(encode_field(fields[col]))
        matrix = np.empty((len(texts), len(layout.features)), dtype=object)
        if texts:
            matrix[:] = texts
        return ParsedBlock(
            matrix,
            np.asarray(lines, dtype=np.int64),
            [ByteColumn.from_list(col) for col in passthrough],
            errors,
            blanks,
        )


class TextJsonlReader(JsonlReader):
    """JSON Lines whose features are strings: `{"text": "...", "id": 7}` or `["..."]`."""

    dtype: Any = object

    def _check(self, row: list[Any]) -> str:
        for name, value in zip(self.names, row, strict=True):
            if value is None:
                return f"feature {name!r} is null (missing text)"
            if type(value) is not str:
                shown = excerpt(orjson.dumps(value))
                return f"feature {name!r} is not a string: {json_type(value)} {shown}"
        return ""
