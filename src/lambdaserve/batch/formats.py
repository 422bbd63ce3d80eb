"""The one place an input format's reader and writer are chosen, as a matched pair.

A reader turns blocks into `ParsedBlock[P]`, and its writer formats exactly that kind of
passthrough `P` (CSV: byte columns; JSON Lines: one dict per row): the types make a
mismatched pair an error. Reading is split in two so both vCPUs carry load: `prepare`
runs on the pipeline's reading thread, `finish` on the model's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from lambdaserve.batch.blocks import Block, ParsedBlock
from lambdaserve.batch.csv_header import read_header
from lambdaserve.batch.csv_reader import CsvReader
from lambdaserve.batch.csv_writer import CsvWriter
from lambdaserve.batch.jsonl_reader import JsonlReader
from lambdaserve.batch.jsonl_writer import JsonlWriter
from lambdaserve.batch.keys import Format
from lambdaserve.batch.parse_worker import OffloadedCsv, ParserProcess
from lambdaserve.batch.prediction_columns import Outputs, PredictionColumns
from lambdaserve.batch.text_rows import TextCsvReader, TextJsonlReader, is_text_model
from lambdaserve.repository import ModelManifest

Prepared = TypeVar("Prepared")
Passthrough = TypeVar("Passthrough")

CONTENT_TYPES = {Format.CSV: "text/csv", Format.JSONL: "application/x-ndjson"}


class BlockReader(Protocol[Prepared, Passthrough]):
    # True when `prepare` only hands the block to another process: the reading thread
    # then has the spare time, and formats the output instead of the model's thread.
    parses_elsewhere: bool

    def prepare(self, block: Block) -> Prepared: ...

    def finish(self, prepared: Prepared) -> ParsedBlock[Passthrough]: ...


class BlockWriter(Protocol[Passthrough]):
    def header(self) -> bytes: ...

    def rows(self, block: ParsedBlock[Passthrough], outputs: Outputs) -> bytes: ...


@dataclass(frozen=True)
class BlockFormat(Generic[Prepared, Passthrough]):
    reader: BlockReader[Prepared, Passthrough]
    writer: BlockWriter[Passthrough]
    # The first line names the columns: it is read by `open_format`, never parsed as a row.
    first_line_is_header: bool


def open_format(
    kind: Format,
    first_line: bytes,
    manifest: ModelManifest,
    columns: PredictionColumns,
    parser: ParserProcess | None,
    starts_input: bool = True,
) -> BlockFormat[Any, Any]:
    """The pair for this input; `first_line` is the input's first line (a CSV header or
    a first row), `starts_input` False for a byte range that begins later in the input.
    Raises UnreadableInput if the input cannot be read in this format."""
    text = is_text_model(manifest.inputs[0].datatype)
    if kind is Format.JSONL:
        jsonl = TextJsonlReader if text else JsonlReader
        reader = jsonl(manifest.feature_names, starts_input=starts_input)
        return BlockFormat(reader, JsonlWriter(columns), False)
    layout = read_header(first_line, manifest.feature_names)
    if text:
        return BlockFormat(TextCsvReader(layout), CsvWriter(layout, columns), layout.has_header)
    csv = CsvReader(layout)
    writer = CsvWriter(layout, columns)
    if parser is not None:
        return BlockFormat(OffloadedCsv(csv, parser), writer, layout.has_header)
    return BlockFormat(csv, writer, layout.has_header)
