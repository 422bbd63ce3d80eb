"""JSON Lines output: each row's passthrough keys, then the prediction keys (never clobbered)."""

from __future__ import annotations

import numpy as np
import orjson

from lambdaserve.batch.blocks import Block
from lambdaserve.batch.jsonl_reader import JsonlReader
from lambdaserve.batch.jsonl_writer import JsonlWriter
from lambdaserve.batch.prediction_columns import PredictionColumns

CLASSES = PredictionColumns(classifier=True, class_labels=("no", "yes"))


def test_rows_keep_their_keys_and_rows_without_any_get_their_line() -> None:
    data = b'{"id": "x", "a": 1, "b": 2, "label": "mine"}\n[3, 4]\n\n{"a": 5, "b": 6}\n'
    block = JsonlReader(("a", "b")).parse(Block(data, 10))
    outputs = {
        "label": np.array([1, 0, 1], dtype=np.int64),
        "probabilities": np.array([[0.25, 0.75], [0.9, 0.1], [0.4, 0.6]], dtype=np.float32),
    }
    writer = JsonlWriter(CLASSES)
    assert writer.header() == b""
    lines = writer.rows(block, outputs).splitlines()
    assert [orjson.loads(line) for line in lines] == [
        {
            "id": "x",
            "label": "mine",
            "prediction": 1,
            "probability": 0.75,
            "predicted_label": "yes",
        },
        {"line": 11, "prediction": 0, "probability": 0.9, "label": "no"},
        {"line": 13, "prediction": 1, "probability": 0.6, "label": "yes"},
    ]
    assert writer.rows(block, outputs).endswith(b"}\n")


def test_a_regressor_row_has_one_prediction_key() -> None:
    block = JsonlReader(("a",)).parse(Block(b'{"a": 1, "k": null}\n', 1))
    writer = JsonlWriter(PredictionColumns(classifier=False, class_labels=()))
    text = writer.rows(block, {"prediction": np.array([[0.1234567891]], dtype=np.float32)})
    assert orjson.loads(text) == {"k": None, "prediction": 0.1234568}
