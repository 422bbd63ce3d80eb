"""Output lines in the input's format: passthrough first, then the prediction columns.

Rows that carry no passthrough (a header-less CSV, JSON arrays) start with their input
line number instead, so every prediction can be joined back to its input row.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import orjson

from lambdaserve.batch.csv_reader import CsvLayout, encode_names
from lambdaserve.batch.outputs import LINE, OutputColumns
from lambdaserve.batch.rows import ParsedBlock
from lambdaserve.batch.texts import Texts, join_rows


class Writer(Protocol):
    def header(self) -> bytes: ...

    def rows(self, block: ParsedBlock, outputs: dict[str, np.ndarray]) -> bytes: ...


class CsvWriter:
    def __init__(self, layout: CsvLayout, columns: OutputColumns) -> None:
        self.columns = columns
        self.passthrough = layout.passthrough_names
        self.with_line = not self.passthrough

    def header(self) -> bytes:
        leading = self.passthrough or (LINE,)
        names = (*leading, *self.columns.names(leading))
        return b",".join(encode_names(names)) + b"\n"

    def rows(self, block: ParsedBlock, outputs: dict[str, np.ndarray]) -> bytes:
        leading = [Texts.integers(block.lines)] if self.with_line else block.csv_passthrough
        return join_rows([*leading, *self.columns.csv_columns(outputs)])


class JsonlWriter:
    def __init__(self, columns: OutputColumns) -> None:
        self.columns = columns

    def header(self) -> bytes:
        return b""

    def rows(self, block: ParsedBlock, outputs: dict[str, np.ndarray]) -> bytes:
        passthrough = block.json_passthrough or [{} for _ in range(block.rows)]
        lines = block.lines.tolist()
        out = []
        for extra, line, values in zip(
            passthrough, lines, self.columns.json_rows(outputs), strict=True
        ):
            row: dict[str, Any] = dict(extra) if extra else {LINE: line}
            row.update(zip(self.columns.names(row), values, strict=True))
            out.append(orjson.dumps(row))
        out.append(b"")
        return b"\n".join(out)
