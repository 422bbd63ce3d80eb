"""Predictions of a JSON Lines input as JSON Lines: each row's passthrough keys, then ours.

A row without passthrough keys (an array, or an object of features only) starts with
its input line number instead, so every prediction can be joined back to its input row.
"""

from __future__ import annotations

from typing import Any

import orjson

from lambdaserve.batch.blocks import ParsedBlock
from lambdaserve.batch.prediction_columns import LINE, Outputs, PredictionColumns


class JsonlWriter:
    def __init__(self, columns: PredictionColumns) -> None:
        self.columns = columns

    def header(self) -> bytes:
        return b""

    def rows(self, block: ParsedBlock[list[dict[str, Any]]], outputs: Outputs) -> bytes:
        lines = block.lines.tolist()
        out = []
        for extra, line, values in zip(
            block.passthrough, lines, self.columns.json_rows(outputs), strict=True
        ):
            row: dict[str, Any] = dict(extra) if extra else {LINE: line}
            row.update(zip(self.columns.names(row), values, strict=True))
            out.append(orjson.dumps(row))
        out.append(b"")
        return b"\n".join(out)
