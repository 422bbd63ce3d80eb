from __future__ import annotations

import orjson

from lambdaserve.errors import InvalidInput
from lambdaserve.stream import results


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
