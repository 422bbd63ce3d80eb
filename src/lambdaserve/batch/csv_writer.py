"""Predictions of a CSV input as CSV: the passthrough columns, then the prediction columns.

A header-less input has no passthrough: its rows start with their input line number
instead, so every prediction can be joined back to its input row.
"""

from __future__ import annotations

from lambdaserve.batch.blocks import ParsedBlock
from lambdaserve.batch.byte_column import ByteColumn, join_rows
from lambdaserve.batch.csv_header import CsvLayout, encode_names
from lambdaserve.batch.prediction_columns import LINE, Outputs, PredictionColumns


class CsvWriter:
    def __init__(self, layout: CsvLayout, columns: PredictionColumns) -> None:
        self.columns = columns
        self.passthrough = layout.passthrough_names
        self.with_line = not self.passthrough

    def header(self) -> bytes:
        leading = self.passthrough or (LINE,)
        names = (*leading, *self.columns.names(leading))
        return b",".join(encode_names(names)) + b"\n"

    def rows(self, block: ParsedBlock[list[ByteColumn]], outputs: Outputs) -> bytes:
        leading = [ByteColumn.integers(block.lines)] if self.with_line else block.passthrough
        return join_rows([*leading, *self.columns.csv_columns(outputs)])
