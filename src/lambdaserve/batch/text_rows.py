"""Readers for a text model's batch input: the feature columns hold texts, not numbers.

CSV goes through the `csv` module row by row (texts carry commas, quotes and line breaks;
numpy's number readers have nothing to do here); JSON Lines rows are read as for numbers,
with string values. Either gives the block's texts as an object array [rows, features],
the BYTES tensor a text model takes; passthrough columns and keys, the writers and the
error report are the numeric readers' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from lambdaserve.batch.blocks import Block, ParsedBlock, excerpt
from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_header import CsvLayout
from lambdaserve.batch.csv_rows import read_rows
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
        layout = self.layout

        def texts(fields: Sequence[str]) -> tuple[list[str] | None, str]:
            row = [fields[col] for col in layout.features]
            for col, text in zip(layout.features, row, strict=True):
                if not text:
                    return None, f"column {layout.names[col]!r} is empty (missing text)"
            return row, ""

        text = block.data.decode("utf-8", "replace")
        rows = read_rows(layout, text, block.first_line, texts)
        matrix = np.empty((len(rows.features), len(layout.features)), dtype=object)
        if rows.features:
            matrix[:] = rows.features
        return rows.parsed(matrix)


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
