"""One place picks each format's reader and writer, as a pair."""

from __future__ import annotations

import pytest

from lambdaserve.batch.blocks import UnreadableInput
from lambdaserve.batch.csv_reader import CsvReader
from lambdaserve.batch.csv_writer import CsvWriter
from lambdaserve.batch.formats import open_format
from lambdaserve.batch.jsonl_reader import JsonlReader
from lambdaserve.batch.jsonl_writer import JsonlWriter
from lambdaserve.batch.keys import Format
from lambdaserve.batch.parse_worker import OffloadedCsv, ParserProcess
from lambdaserve.batch.prediction_columns import PredictionColumns
from lambdaserve.repository import ModelRepository

HEADER = b"id,sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)"


def test_csv_pairs_its_reader_and_writer_and_skips_a_header(
    repository: ModelRepository,
) -> None:
    manifest = repository.manifest("iris", "1")
    columns = PredictionColumns.for_model(manifest)
    fmt = open_format(Format.CSV, HEADER, manifest, columns, None)
    assert isinstance(fmt.reader, CsvReader) and isinstance(fmt.writer, CsvWriter)
    assert fmt.first_line_is_header and not fmt.reader.parses_elsewhere
    headerless = open_format(Format.CSV, b"5.1,3.5,1.4,0.2", manifest, columns, None)
    assert not headerless.first_line_is_header
    with pytest.raises(UnreadableInput, match="names none of the model's 4 features"):
        open_format(Format.CSV, b"x,y", manifest, columns, None)


def test_a_parser_process_takes_csv_only(repository: ModelRepository) -> None:
    manifest = repository.manifest("iris", "1")
    columns = PredictionColumns.for_model(manifest)
    parser = ParserProcess()
    try:
        csv = open_format(Format.CSV, HEADER, manifest, columns, parser)
        assert isinstance(csv.reader, OffloadedCsv) and csv.reader.parses_elsewhere
        jsonl = open_format(Format.JSONL, b"[1, 2, 3, 4]", manifest, columns, parser)
        assert isinstance(jsonl.reader, JsonlReader) and isinstance(jsonl.writer, JsonlWriter)
        assert not jsonl.first_line_is_header and not jsonl.reader.parses_elsewhere
    finally:
        parser.close()
