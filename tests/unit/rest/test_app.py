"""The HTTP contract shared by every route: errors as JSON, limits, content types, docs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from awslambdaric.lambda_context import LambdaContext
from fastapi.testclient import TestClient
from mangum import Mangum

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelRepository
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings

ROW = [5.1, 3.5, 1.4, 0.2]


@pytest.fixture(scope="module")
def client(models_dir: Path) -> TestClient:
    settings = Settings(model_repository=models_dir, model_name="iris", max_body_bytes=2048)
    return TestClient(create_model_app(settings), raise_server_exceptions=False)


def test_model_app_refuses_to_start_without_a_model_name(models_dir: Path) -> None:
    with pytest.raises(ValueError, match="MODEL_NAME"):
        create_model_app(Settings(model_repository=models_dir))


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "application/json; charset=utf-8", "text/json"]
)
def test_json_and_absent_content_types_are_accepted(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post(
        "/models/iris/predict", content=b'{"features": [5.1, 3.5, 1.4, 0.2]}', headers=headers
    )
    assert response.status_code == 200
    assert response.json()["label"] == "setosa"


@pytest.mark.parametrize(
    "content_type",
    ["text/csv", "multipart/form-data; boundary=x", "application/xml", "text/plain"],
)
def test_other_content_types_get_415(client: TestClient, content_type: str) -> None:
    response = client.post(
        "/models/iris/predict", content=b"{}", headers={"content-type": content_type}
    )
    assert response.status_code == 415
    assert "Content-Type" in response.json()["error"]


def test_tf_serving_accepts_curls_default_content_type_but_seed_style_does_not(
    client: TestClient,
) -> None:
    """`curl -d` (TF Serving's own examples) sends application/x-www-form-urlencoded."""
    form = {"content-type": "application/x-www-form-urlencoded"}
    body = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'
    response = client.post("/v1/models/iris:predict", content=body, headers=form)
    assert response.status_code == 200
    assert response.json()["predictions"][0]["label"] == 0
    assert client.post("/models/iris/predict", content=body, headers=form).status_code == 415
    csv = {"content-type": "text/csv"}
    assert client.post("/v1/models/iris:predict", content=body, headers=csv).status_code == 415


@pytest.mark.parametrize(
    "path",
    ["/models/iris/predict", "/v1/models/iris:predict", "/v2/models/iris/infer"],
)
@pytest.mark.parametrize("content_type", ["text/plain", "text/plain; charset=utf-8", "TEXT/PLAIN"])
def test_text_plain_is_refused_on_every_route(
    client: TestClient, path: str, content_type: str
) -> None:
    """CORS-safelisted: a browser sends it cross-origin without asking the API first."""
    bodies = {
        "/models/iris/predict": b'{"features": [5.1, 3.5, 1.4, 0.2]}',
        "/v1/models/iris:predict": b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
        "/v2/models/iris/infer": b'{"inputs": [{"name": "input", "datatype": "FP32",'
        b' "shape": [1, 4], "data": [5.1, 3.5, 1.4, 0.2]}]}',
    }
    response = client.post(path, content=bodies[path], headers={"content-type": content_type})
    assert response.status_code == 415
    assert response.json() == {
        "error": "unsupported Content-Type 'text/plain'; send application/json"
    }
    assert client.post(path, content=bodies[path]).status_code == 200


def test_body_over_the_cap_gets_413(client: TestClient) -> None:
    body = b'{"instances": [' + b",".join([b"[5.1, 3.5, 1.4, 0.2]"] * 200) + b"]}"
    response = client.post("/models/iris/predict", content=body)
    assert response.status_code == 413
    assert response.json() == {"error": "request body exceeds the 2,048-byte limit"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "request body is empty"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"features": [1, 2, 3]}', "has shape [1, 3], model expects [-1, 4]"),
        (b'{"features": [1, 2, 3, "x"]}', "must be numbers"),
        (b'{"features": [1, 2, 3, NaN]}', "not valid JSON"),
        (b'{"features": [1, 2, 3, 1e999]}', "infinity"),
        (b'{"features": {"sepal length (cm)": 1}}', "missing feature"),
        (b'{"features": [1, 2, 3, 4], "instances": [[1, 2, 3, 4]]}', "exactly one of"),
    ],
)
def test_client_mistakes_get_400_with_a_clear_message(
    client: TestClient, body: bytes, message: str
) -> None:
    response = client.post("/models/iris/predict", content=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_unknown_model_version_and_route_are_json_404s(client: TestClient) -> None:
    assert client.post("/models/nope/predict", json={"features": ROW}).json() == {
        "error": "model 'nope' not found"
    }
    response = client.post("/models/iris/versions/9/predict", json={"features": ROW})
    assert response.status_code == 404 and "no version '9'" in response.json()["error"]
    response = client.get("/nowhere")
    assert response.status_code == 404 and response.json() == {"error": "no route for GET /nowhere"}


def test_wrong_method_is_a_json_405(client: TestClient) -> None:
    response = client.get("/models/iris/predict")
    assert response.status_code == 405
    assert response.json()["error"] == "method GET not allowed on /models/iris/predict"


def test_docs_and_openapi_cover_every_protocol(client: TestClient) -> None:
    assert client.get("/models/iris/docs").status_code == 200
    paths = client.get("/models/iris/openapi.json").json()["paths"]
    assert {
        "/models/{model}/predict",
        "/v1/models/{model_verb}",
        "/v2/models/{model}/infer",
    } <= set(paths)
    assert "requestBody" in paths["/v2/models/{model}/infer"]["post"]


class ExplodingPlane(DataPlane):
    def infer(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise RuntimeError("secret internal detail")


def _predict_event(request_id: str = "api-gw-id") -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "ANY /models/iris/{proxy+}",
        "rawPath": "/models/iris/predict",
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "http": {"method": "POST", "path": "/models/iris/predict", "sourceIp": "1.1.1.1"},
            "requestId": request_id,
        },
        "body": '{"features": [5.1, 3.5, 1.4, 0.2]}',
        "isBase64Encoded": False,
    }


def test_our_faults_are_500_without_details_even_through_mangum(
    models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(model_repository=models_dir, model_name="iris")
    plane = ExplodingPlane(ModelRepository(models_dir), served=["iris"])
    handler = Mangum(create_model_app(settings, plane), lifespan="off")
    # The context awslambdaric hands the handler in Lambda; its id is in every log line.
    context = LambdaContext("lambda-req-7", None, None, 0)
    with caplog.at_level(logging.ERROR, logger="lambdaserve"):
        response = handler(_predict_event(), context)
    assert response["statusCode"] == 500
    assert orjson.loads(response["body"]) == {
        "error": "internal error (request id lambda-req-7)",
        "request_id": "lambda-req-7",
    }
    assert "secret" not in response["body"] and "Traceback" not in response["body"]
    assert "server" not in {k.lower() for k in response["headers"]}
    logged = [r for r in caplog.records if "lambda-req-7" in r.getMessage()]
    assert logged and logged[0].exc_info is not None
    assert "secret internal detail" in str(logged[0].exc_info[1])
    # Outside Lambda (no context), API Gateway's request id stands in.
    response = handler(_predict_event("gw-9"), None)
    assert orjson.loads(response["body"])["request_id"] == "gw-9"


class BrokenModelPlane(DataPlane):
    def infer(self, *args: object, **kwargs: object):  # type: ignore[override]
        raise ModelLoadError(
            "cannot load /opt/models/iris/1/model.onnx: onnxruntime 1.32.0 says no"
        )


def test_our_own_error_messages_stay_in_the_logs(models_dir: Path) -> None:
    settings = Settings(model_repository=models_dir, model_name="iris")
    plane = BrokenModelPlane(ModelRepository(models_dir), served=["iris"])
    handler = Mangum(create_model_app(settings, plane), lifespan="off")
    response = handler(_predict_event("gw-10"), None)
    assert response["statusCode"] == 500
    assert "/opt/models" not in response["body"] and "1.32" not in response["body"]
    assert orjson.loads(response["body"])["request_id"] == "gw-10"
