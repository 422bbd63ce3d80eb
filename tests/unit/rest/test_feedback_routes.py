"""POST /models/{m}/feedback end to end: predict, send the truth, read the quality records."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from emf_spec import emf_records
from fastapi.testclient import TestClient

from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings

IRIS_SETOSA = [5.1, 3.5, 1.4, 0.2]
IRIS_VIRGINICA = [6.7, 3.0, 5.2, 2.3]
DIABETES_ROW = [0.038, 0.05, 0.062, 0.022, -0.044, -0.035, -0.043, -0.003, 0.02, -0.018]


def _client(model: str, table: str | None) -> TestClient:
    settings = dataclasses.replace(
        Settings(SOURCE_MODEL_REPOSITORY, model), feedback_table=table or ""
    )
    return TestClient(create_model_app(settings), raise_server_exceptions=False)


def _quality(out: str) -> dict[tuple[str, str], list[float]]:
    found: dict[tuple[str, str], list[float]] = {}
    for doc in emf_records(out):
        for name in ("PredictionCorrect", "AbsoluteError"):
            if name in doc:
                found.setdefault((name, doc["version"]), []).extend(doc[name])
    return found


def test_classifier_feedback_judges_and_emits_accuracy(
    feedback_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client("iris", feedback_table)
    one = client.post("/models/iris/predict", json={"features": IRIS_SETOSA})
    many = client.post("/models/iris/predict", json={"instances": [IRIS_SETOSA, IRIS_VIRGINICA]})
    capsys.readouterr()
    reply = client.post(
        "/models/iris/feedback",
        json=[
            {"inference_id": one.headers["x-inference-id"], "actual": "setosa"},
            {"inference_id": many.headers["x-inference-id"], "actual": [0, "versicolor"]},
        ],
    )
    assert reply.status_code == 200, reply.text
    assert [(r["rows"], r["correct"]) for r in reply.json()["results"]] == [(1, 1), (2, 1)]
    assert _quality(capsys.readouterr().out) == {("PredictionCorrect", "1"): [1.0, 1.0, 0.0]}


def test_regressor_feedback_emits_absolute_error(
    feedback_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client("diabetes", feedback_table)
    predicted = client.post("/models/diabetes/predict", json={"features": DIABETES_ROW})
    value = predicted.json()["prediction"]
    capsys.readouterr()
    reply = client.post(
        "/models/diabetes/feedback",
        json={"inference_id": predicted.headers["x-inference-id"], "actual": value + 12.5},
    )
    assert reply.status_code == 200
    assert reply.json()["results"][0]["mean_absolute_error"] == pytest.approx(12.5, abs=1e-3)
    [error] = _quality(capsys.readouterr().out)[("AbsoluteError", "1")]
    assert error == pytest.approx(12.5, abs=1e-3)


def test_v2_caller_ids_are_the_feedback_ids(feedback_table: str) -> None:
    client = _client("iris", feedback_table)
    tensor = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_VIRGINICA}
    client.post("/v2/models/iris/infer", json={"id": "order-991", "inputs": [tensor]})
    reply = client.post("/models/iris/feedback", json={"inference_id": "order-991", "actual": 2})
    assert reply.json()["results"][0] == {
        "inference_id": "order-991",
        "version": "1",
        "rows": 1,
        "correct": 1,
        "accuracy": 1.0,
    }


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"inference_id": "never-made", "actual": 0}, 404, "unknown or expired"),
        ({"inference_id": "{known}", "actual": 1.5}, 400, "class value"),
        ({"inference_id": "{known}", "actual": [0, 1]}, 400, "predicted 1 row"),
        ({"inference_id": "{known}"}, 400, "'inference_id' and 'actual'"),
        ([], 400, "non-empty"),
    ],
)
def test_bad_feedback_is_a_clear_client_error(
    feedback_table: str, body: Any, status: int, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client("iris", feedback_table)
    known = client.post("/models/iris/predict", json={"features": IRIS_SETOSA})
    if isinstance(body, dict) and body.get("inference_id") == "{known}":
        body = {**body, "inference_id": known.headers["x-inference-id"]}
    capsys.readouterr()
    reply = client.post("/models/iris/feedback", json=body)
    assert reply.status_code == status
    assert message in reply.json()["error"]
    assert _quality(capsys.readouterr().out) == {}


def test_wire_errors_and_feedback_off(feedback_table: str) -> None:
    client = _client("iris", feedback_table)
    not_json = client.post(
        "/models/iris/feedback", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400 and "not valid JSON" in not_json.json()["error"]
    form = client.post(
        "/models/iris/feedback", content=b"a=1", headers={"content-type": "text/csv"}
    )
    assert form.status_code == 415
    other = client.post("/models/digits/feedback", json={"inference_id": "a", "actual": 1})
    assert other.status_code == 404
    off = _client("iris", None).post(
        "/models/iris/feedback", json={"inference_id": "a", "actual": 1}
    )
    assert off.status_code == 404 and "FeedbackEnabled" in off.json()["error"]
