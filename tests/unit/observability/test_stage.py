"""The metrics stage inside a real model app: the records a request leaves, field by field."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
from emf_spec import emf_records, json_lines, metric_names
from fastapi.testclient import TestClient

from lambdaserve.dataplane import RequestContext, create_dataplane
from lambdaserve.inference import InferenceRequest
from lambdaserve.observability import names
from lambdaserve.observability.capture import decode_tensors
from lambdaserve.observability.feedback import PredictionStore
from lambdaserve.observability.invocation import lambda_handler
from lambdaserve.observability.shadow import COMPARED, ShadowOutcome
from lambdaserve.observability.stage import MetricsStage, metrics_stage
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings

IRIS_ROW = [5.1, 3.5, 1.4, 0.2]
SALT = "a-salt-of-sixteen-bytes-or-more"


def _settings(**changes: Any) -> Settings:
    return dataclasses.replace(Settings(SOURCE_MODEL_REPOSITORY, "iris"), **changes)


def _client(**changes: Any) -> TestClient:
    return TestClient(create_model_app(_settings(**changes)), raise_server_exceptions=False)


def _requests(out: str) -> list[dict[str, Any]]:
    return [r for r in emf_records(out) if r.get("message") == "request"]


def _captures(out: str) -> list[dict[str, Any]]:
    return [r for r in json_lines(out) if r.get("eventVersion") == "0"]


def test_a_prediction_leaves_one_request_record_and_an_inference_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = _client()
    capsys.readouterr()
    reply = client.post("/models/iris/predict", json={"features": IRIS_ROW})
    assert reply.status_code == 200
    [record] = _requests(capsys.readouterr().out)
    inference_id = reply.headers["x-inference-id"]
    assert len(inference_id) == 32 and record["inference_id"] == inference_id
    assert (record["model"], record["version"], record["route"], record["status"]) == (
        "iris",
        "1",
        "predict",
        200,
    )
    assert record["level"] == "INFO" and record["service"] == "lambdaserve"
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["model"], ["model", "version"]]
    assert (record["Requests"], record["Errors4xx"], record["Errors5xx"]) == (1, 0, 0)
    parts = record["decode_ms"] + record["inference_ms"] + record["encode_ms"]
    assert record["inference_ms"] > 0 and 0 < parts <= record["latency_ms"]
    assert record["Latency"] == record["latency_ms"]
    assert record["InferenceLatency"] == record["inference_ms"]
    assert "Captured" not in record
    # The cache stage runs inside this one: its answer is in the record.
    assert (record["cache"], record["CacheHits"], record["CacheMisses"]) == ("miss", 0, 1)
    client.post("/models/iris/predict", json={"features": IRIS_ROW})  # its second miss: cached
    client.post("/models/iris/predict", json={"features": IRIS_ROW})
    [_, again] = _requests(capsys.readouterr().out)
    assert (again["cache"], again["CacheHits"], again["CacheMisses"]) == ("hit", 1, 0)
    assert again["inference_id"] != record["inference_id"]  # a new inference, same answer


def test_cold_start_is_counted_once_per_container(capsys: pytest.CaptureFixture[str]) -> None:
    client = _client()
    for _ in range(3):
        client.post("/models/iris/predict", json={"features": IRIS_ROW})
    records = _requests(capsys.readouterr().out)
    assert [r["cold_start"] for r in records] == [True, False, False]
    assert [names.COLD_START in metric_names(r) for r in records] == [True, False, False]


def test_v2_id_is_the_inference_id_on_every_protocol(capsys: pytest.CaptureFixture[str]) -> None:
    client = _client()
    tensor = {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}
    reply = client.post("/v2/models/iris/infer", json={"id": "caller-7", "inputs": [tensor]})
    assert reply.headers["x-inference-id"] == "caller-7" and reply.json()["id"] == "caller-7"
    tf = client.post("/v1/models/iris:predict", json={"instances": [IRIS_ROW]})
    assert len(tf.headers["x-inference-id"]) == 32
    records = _requests(capsys.readouterr().out)
    assert [(r["route"], r["inference_id"]) for r in records] == [
        ("infer", "caller-7"),
        ("predict", tf.headers["x-inference-id"]),
    ]


@pytest.mark.parametrize(
    ("path", "body", "status", "dimensions"),
    [
        ("/models/iris/versions/9/predict", {"features": IRIS_ROW}, 404, [["model"]]),
        ("/models/iris/predict", {"features": [1, 2]}, 400, [["model"], ["model", "version"]]),
    ],
)
def test_client_errors_count_as_4xx_and_never_mint_dimensions(
    capsys: pytest.CaptureFixture[str], path: str, body: Any, status: int, dimensions: Any
) -> None:
    client = _client()
    reply = client.post(path, json=body)
    assert reply.status_code == status and "x-inference-id" not in reply.headers
    [record] = _requests(capsys.readouterr().out)
    assert (record["status"], record["Errors4xx"], record["Errors5xx"]) == (status, 1, 0)
    assert record["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == dimensions
    assert record["error"] == reply.json()["error"] and "inference_id" not in record
    assert "9" not in record.get("version", "")


def test_our_faults_count_as_5xx_at_error_level(capsys: pytest.CaptureFixture[str]) -> None:
    app = create_model_app(_settings())
    model = app.state.dataplane.model("iris", "1")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("session lost")

    model.predict = broken
    reply = TestClient(app, raise_server_exceptions=False).post(
        "/models/iris/predict", json={"features": IRIS_ROW}
    )
    assert reply.status_code == 500
    [record] = _requests(capsys.readouterr().out)
    assert (record["level"], record["Errors5xx"], record["status"]) == ("ERROR", 1, 500)
    assert record["error"] == "RuntimeError"


def test_sampled_requests_are_captured_and_decode_back_to_the_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    client = _client(capture_percent=100.0)
    rows = [IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]
    tensor = {"name": "input", "shape": [2, 4], "datatype": "FP32", "data": rows}
    reply = client.post("/v2/models/iris/infer", json={"inputs": [tensor]})
    out = capsys.readouterr().out
    [capture] = _captures(out)
    [record] = _requests(out)
    assert record["Captured"] == 1
    meta = capture["eventMetadata"]
    assert meta["inferenceId"] == reply.headers["x-inference-id"] == record["inference_id"]
    assert (meta["model"], meta["modelVersion"]) == ("iris", "1")
    inputs = decode_tensors(capture["captureData"]["endpointInput"]["data"])
    np.testing.assert_array_equal(inputs["input"], np.array(rows, dtype=np.float32))
    outputs = decode_tensors(capture["captureData"]["endpointOutput"]["data"])
    answer = {o["name"]: o["data"] for o in reply.json()["outputs"]}
    assert outputs["label"].tolist() == answer["label"]
    np.testing.assert_allclose(outputs["probabilities"].ravel(), answer["probabilities"], rtol=1e-6)


def test_hash_privacy_keeps_no_input_values(capsys: pytest.CaptureFixture[str]) -> None:
    client = _client(capture_percent=100.0, capture_privacy="hash", capture_salt=SALT)
    client.post("/models/iris/predict", json={"features": IRIS_ROW})
    [capture] = _captures(capsys.readouterr().out)
    data = capture["captureData"]["endpointInput"]["data"]
    assert "5.1" not in data and "hmac_sha256" in data


def test_unanswered_and_unsampled_requests_are_not_captured(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _client(capture_percent=100.0).post("/models/iris/predict", json={"features": [1]})
    _client(capture_percent=0.0).post("/models/iris/predict", json={"features": IRIS_ROW})
    assert _captures(capsys.readouterr().out) == []


def test_a_hash_policy_without_salt_refuses_to_start() -> None:
    with pytest.raises(ValueError, match="salt"):
        create_model_app(_settings(capture_percent=10.0, capture_privacy="hash"))


def test_noted_cache_result_and_shadow_outcome_are_recorded() -> None:
    lines: list[str] = []
    stage = MetricsStage("breast_cancer", write=lines.append)
    plane = create_dataplane(Settings(SOURCE_MODEL_REPOSITORY, "breast_cancer"), ["breast_cancer"])
    plane.configure(plane.selector, [stage])
    ctx = RequestContext("breast_cancer", version="1", started=1.0)
    plane.select(ctx)
    plane.infer(ctx, InferenceRequest({"input": np.zeros((1, 30), np.float32)}))
    outcome = ShadowOutcome("2", COMPARED, agreement=1.0, seconds=0.002)
    ctx.note("cache", "hit")
    ctx.note("shadow", outcome)
    plane.finish(ctx)
    docs = emf_records("\n".join(lines))
    request = next(d for d in docs if d.get("message") == "request")
    assert (request["cache"], request["CacheHits"], request["CacheMisses"]) == ("hit", 1, 0)
    shadow = next(d for d in docs if d.get("message") == "shadow compared")
    assert (shadow["version"], shadow["primary_version"]) == ("2", "1")
    assert shadow["ShadowAgreement"] == 1.0 and shadow["inference_id"] == ctx.inference_id


def test_feedback_store_gets_each_answered_prediction(
    feedback_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client(feedback_table=feedback_table)
    reply = client.post(
        "/models/iris/predict", json={"instances": [IRIS_ROW, [6.7, 3.0, 5.2, 2.3]]}
    )
    stored = PredictionStore(feedback_table, 60, 1.0).get_many([reply.headers["x-inference-id"]])
    [item] = stored.values()
    assert (item.model, item.version, item.task) == ("iris", "1", "classification")
    assert item.predictions == [p["prediction"] for p in reply.json()["predictions"]]
    [record] = _requests(capsys.readouterr().out)
    assert "FeedbackStoreErrors" not in record


def test_a_failing_feedback_store_never_fails_the_request(
    feedback_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    client = _client(feedback_table="no-such-table")
    reply = client.post("/models/iris/predict", json={"features": IRIS_ROW})
    assert reply.status_code == 200 and reply.json()["label"] == "setosa"
    [record] = _requests(capsys.readouterr().out)
    assert record["FeedbackStoreErrors"] == 1


def test_metrics_can_be_switched_off(capsys: pytest.CaptureFixture[str]) -> None:
    reply = _client(metrics=False).post("/models/iris/predict", json={"features": IRIS_ROW})
    assert reply.status_code == 200 and "x-inference-id" not in reply.headers
    assert _requests(capsys.readouterr().out) == []


def test_the_stage_needs_its_model_name() -> None:
    with pytest.raises(ValueError, match="MODEL_NAME"):
        metrics_stage(Settings(SOURCE_MODEL_REPOSITORY))


def test_the_lambda_request_id_reaches_the_record(capsys: pytest.CaptureFixture[str]) -> None:
    from mangum import Mangum

    app = create_model_app(_settings())
    handler = lambda_handler(Mangum(app, lifespan="off"))
    event = {
        "version": "2.0",
        "routeKey": "POST /models/iris/predict",
        "rawPath": "/models/iris/predict",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/models/iris/predict", "sourceIp": "127.0.0.1"},
            "requestId": "apigw-1",
            "stage": "$default",
        },
        "body": '{"features": [5.1, 3.5, 1.4, 0.2]}',
        "isBase64Encoded": False,
    }

    class Context:
        aws_request_id = "lambda-req-42"

    assert handler(event, Context())["statusCode"] == 200
    [record] = _requests(capsys.readouterr().out)
    assert record["function_request_id"] == "lambda-req-42"
