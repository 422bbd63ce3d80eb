"""CSV output lines: passthrough first (bytes untouched), else the input line number."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest

from lambdaserve.batch.blocks import Block
from lambdaserve.batch.csv_header import read_header
from lambdaserve.batch.csv_reader import CsvReader
from lambdaserve.batch.csv_writer import CsvWriter
from lambdaserve.batch.prediction_columns import PredictionColumns
from lambdaserve.repository import ModelRepository

FEATURES = ("a", "b")
CLASSES = PredictionColumns(classifier=True, class_labels=("no", "yes"))


def outputs(n: int) -> dict[str, np.ndarray]:
    probabilities = np.tile(np.array([[0.25, 0.75]], dtype=np.float32), (n, 1))
    return {"label": np.ones(n, dtype=np.int64), "probabilities": probabilities}


def test_passthrough_columns_lead_and_keep_their_bytes() -> None:
    header = b'id,a,"note, long",b,prediction\n'
    layout = read_header(header, FEATURES)
    writer = CsvWriter(layout, CLASSES)
    assert writer.header() == (
        b'id,"note, long",prediction,predicted_prediction,probability,label\n'
    )
    block = CsvReader(layout).parse(Block(b'x1,1,"q ""y""",2,z\n007,3,,4,\n', 2))
    text = writer.rows(block, outputs(2))
    assert text == b'x1,"q ""y""",z,1,0.75,yes\n007,,,1,0.75,yes\n'
    rows = list(csv.reader(io.StringIO((writer.header() + text).decode())))
    assert [len(row) for row in rows] == [6, 6, 6]


def test_headerless_input_rows_start_with_their_line_number() -> None:
    layout = read_header(b"1,2\n", FEATURES)
    writer = CsvWriter(layout, CLASSES)
    assert writer.header() == b"line,prediction,probability,label\n"
    block = CsvReader(layout).parse(Block(b"1,2\nbad\n3,4\n", 1))
    assert writer.rows(block, outputs(2)) == b"1,1,0.75,yes\n3,1,0.75,yes\n"


def test_a_regressor_writes_one_prediction_column(repository: ModelRepository) -> None:
    manifest = repository.manifest("diabetes", "1")
    header = ("id," + ",".join(manifest.feature_names) + "\n").encode()
    layout = read_header(header, manifest.feature_names)
    writer = CsvWriter(layout, PredictionColumns.for_model(manifest))
    assert writer.header() == b"id,prediction\n"
    block = CsvReader(layout).parse(Block(b"r1," + b"0," * 9 + b"0\n", 2))
    prediction = {"prediction": np.array([[12.5]], dtype=np.float32)}
    assert writer.rows(block, prediction) == b"r1,12.5\n"


def test_outputs_must_cover_every_row() -> None:
    layout = read_header(b"id,a,b\n", FEATURES)
    block = CsvReader(layout).parse(Block(b"x,1,2\ny,3,4\n", 2))
    with pytest.raises(ValueError, match="rows"):
        CsvWriter(layout, CLASSES).rows(block, outputs(1))
