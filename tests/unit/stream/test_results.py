from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.codecs.simple import prediction_rows
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceResponse
from lambdaserve.repository import ModelManifest, ModelRepository
from lambdaserve.stream import results
from lambdaserve.stream.grouping import Member


def test_a_prediction_carries_ids_model_version_and_rows() -> None:
    rows = [{"prediction": 1}, {"prediction": 2}]
    single = results.prediction("m1", "c1", "iris", "1", rows[:1], single=True)
    assert single == {"id": "c1", "message_id": "m1", "model": "iris", "version": "1", **rows[0]}
    many = results.prediction("m1", None, "iris", "1", rows, single=False)
    assert many["predictions"] == rows and many["id"] is None


def test_an_error_result_says_what_and_its_status() -> None:
    doc = results.failure("m2", "c2", "iris", InvalidInput("bad row"))
    result = results.encode(doc, 1024)
    assert orjson.loads(result.body) == {
        "id": "c2",
        "message_id": "m2",
        "model": "iris",
        "version": None,
        "error": "bad row",
        "status": 400,
    }
    assert (result.outcome, result.correlation_id, result.model) == ("error", "c2", "iris")


def test_the_correlation_id_falls_back_to_the_message_id() -> None:
    doc = results.prediction("m3", None, "iris", "1", [{"prediction": 0}], single=True)
    result = results.encode(doc, 1024)
    assert (result.outcome, result.correlation_id, result.message_id) == ("prediction", "m3", "m3")


def test_a_result_too_big_for_the_output_becomes_an_error_result() -> None:
    rows = [{"prediction": i} for i in range(200)]
    doc = results.prediction("m4", "c4", "iris", "1", rows, single=False)
    result = results.encode(doc, 512)
    body = orjson.loads(result.body)
    assert result.outcome == "error" and body["status"] == 413
    assert "fewer" in body["error"] and body["id"] == "c4" and body["version"] == "1"
    assert len(result.body) <= 512


# Module-level: hypothesis runs a test many times and function fixtures would be shared.
MODELS = Path(__file__).resolve().parents[3] / "layers" / "models"
BREAST_CANCER = ModelRepository(MODELS).manifest("breast_cancer", "2")
DIABETES = ModelRepository(MODELS).manifest("diabetes", "1")
PROBABILITIES = st.floats(width=32, allow_nan=True, allow_infinity=False)


def seed_style(members: list[Member], outputs: dict[str, Any], manifest: ModelManifest) -> bytes:
    """The documents as the REST function's rows make them: prediction_rows, then prediction."""
    rows = prediction_rows(InferenceResponse(manifest.name, "2", outputs), manifest)
    docs, start = [], 0
    for m in members:
        part = rows[start : start + len(m.rows)]
        docs.append(
            results.prediction(m.message_id, m.caller_id, manifest.name, "2", part, m.single)
        )
        start += len(m.rows)
    return orjson.dumps(docs)  # bytes, so NaN probabilities compare equal (as null)


@given(
    st.lists(st.tuples(st.integers(0, 1), PROBABILITIES, PROBABILITIES), min_size=1, max_size=20),
    st.sampled_from([None, ("only one",), ("no", "yes")]),
    st.booleans(),
)
def test_group_documents_are_the_rest_functions_rows_with_ids(
    rows: list[tuple[int, float, float]], labels: tuple[str, ...] | None, one_batch: bool
) -> None:
    manifest = dataclasses.replace(BREAST_CANCER, class_labels=labels)
    outputs = {
        "label": np.array([r[0] for r in rows], dtype=np.int64),
        "probabilities": np.array([r[1:] for r in rows], dtype=np.float32),
    }
    # One row per message (the one-step path), or one message of them all ("instances").
    members = (
        [Member(0, "m0", "c0", [[0.0]] * len(rows), False)]
        if one_batch
        else [
            Member(i, f"m{i}", f"c{i}" if i % 2 else None, [[0.0]], True) for i in range(len(rows))
        ]
    )
    docs = results.predictions(members, outputs, manifest, "2")
    assert orjson.dumps(docs) == seed_style(members, outputs, manifest)


def test_regressor_documents_and_mixed_groups_take_the_rows_path() -> None:
    outputs = {"prediction": np.array([[1.5], [2.5], [3.5]], dtype=np.float32)}
    members = [Member(0, "m0", None, [[0.0]], True), Member(1, "m1", "c1", [[0.0], [0.0]], False)]
    docs = results.predictions(members, outputs, DIABETES, "2")
    assert docs[0]["prediction"] == 1.5 and docs[1]["predictions"] == [
        {"prediction": 2.5},
        {"prediction": 3.5},
    ]
    assert orjson.dumps(docs) == seed_style(members, outputs, DIABETES)
