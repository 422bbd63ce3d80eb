"""Unmodified client libraries against `lambdaserve serve`: tritonclient and TF Serving's REST."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import requests
import tritonclient.http as triton
from test_local_serve import Served, start, stop

from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    # Unmodified clients cannot sign SigV4 requests: this runs the API open, as AuthMode NONE.
    log = tmp_path_factory.mktemp("clients") / "serve.log"
    server = start(ROOT, log, "--no-s3", "--auth", "none")
    yield server
    stop(server)


def _direct(repository: ModelRepository, name: str, version: str, rows: np.ndarray) -> list:
    path = repository.manifest(name, version).onnx_path
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"input": rows.astype(np.float32)})


def test_tritonclient_http_unmodified(served: Served, repository: ModelRepository) -> None:
    client = triton.InferenceServerClient(url=served.api.removeprefix("http://"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.get_server_metadata()["name"] == "lambdaserve"
    assert client.is_model_ready("breast_cancer", "2")
    metadata = client.get_model_metadata("breast_cancer", "2")
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 30]}]

    rows = np.random.default_rng(1).normal(12, 4, size=(4, 30)).astype(np.float32)
    tensor = triton.InferInput("input", list(rows.shape), "FP32")
    tensor.set_data_from_numpy(rows)  # binary tensor extension, tritonclient's default
    result = client.infer("breast_cancer", [tensor], model_version="2", request_id="r-7")
    label, proba = _direct(repository, "breast_cancer", "2", rows)
    np.testing.assert_array_equal(result.as_numpy("label"), label)
    np.testing.assert_allclose(result.as_numpy("probabilities"), proba, rtol=1e-6)
    assert result.get_response()["id"] == "r-7"

    only_label = client.infer(
        "breast_cancer",
        [tensor],
        model_version="2",
        outputs=[triton.InferRequestedOutput("label", binary_data=False)],
    )
    assert only_label.as_numpy("probabilities") is None
    np.testing.assert_array_equal(only_label.as_numpy("label"), label)

    with pytest.raises(triton.InferenceServerException, match="not found"):
        client.get_model_metadata("nope")


def test_tf_serving_rest_client_code_unmodified(
    served: Served, repository: ModelRepository
) -> None:
    """The seed's TF Serving client: requests.post with a JSON string and no content type."""
    features = [5.1, 3.5, 1.4, 0.2]
    url = f"{served.api}/v1/models/iris:predict"
    data = json.dumps({"signature_name": "serving_default", "instances": [features]})
    response = requests.post(url, data=data, timeout=30)
    prediction = response.json()["predictions"][0]
    label, proba = _direct(repository, "iris", "1", np.array([features]))
    assert prediction["label"] == int(label[0])
    np.testing.assert_allclose(prediction["probabilities"], proba[0], rtol=1e-6)

    status = requests.get(f"{served.api}/v1/models/iris", timeout=30).json()
    assert status["model_version_status"][0]["state"] == "AVAILABLE"
    error = requests.post(url, data=json.dumps({"instances": [[1, 2]]}), timeout=30)
    assert error.status_code == 400 and "expects" in error.json()["error"]


def test_tritonclient_bytes_tensors_to_the_text_model(
    served: Served, repository: ModelRepository
) -> None:
    """A text model through tritonclient: BYTES in (binary extension), BYTES labels out."""
    client = triton.InferenceServerClient(url=served.api.removeprefix("http://"))
    texts = np.array([["Works perfectly, love it"], ["Stopped working, a waste of money"]])
    tensor = triton.InferInput("input", [2, 1], "BYTES")
    tensor.set_data_from_numpy(texts.astype(object))
    result = client.infer("reviews", [tensor])
    path = repository.manifest("reviews", "1").onnx_path
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    label, proba = session.run(None, {"input": texts.astype(object)})
    assert [v.decode() for v in result.as_numpy("label").tolist()] == label.tolist()
    assert label.tolist() == ["positive", "negative"]
    np.testing.assert_allclose(result.as_numpy("probabilities"), proba, rtol=1e-6)
