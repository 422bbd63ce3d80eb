"""tritonclient's own wire format (binary tensor extension) through the Lambda handler."""

from __future__ import annotations

import base64
import json

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as triton
from lambda_functions import Handler

from lambdaserve.repository import ModelRepository


def _event(path: str, body: bytes, headers: dict[str, str]) -> dict[str, object]:
    return {
        "version": "2.0",
        "routeKey": "ANY /v2/models/breast_cancer/{proxy+}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {"http": {"method": "POST", "path": path, "sourceIp": "127.0.0.1"}},
        "body": base64.b64encode(body).decode(),
        "isBase64Encoded": True,
    }


@pytest.mark.parametrize("binary_output", [True, False])
@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_tritonclient_request_and_response_round_trip(
    handlers: dict[str, Handler], repository: ModelRepository, binary_output: bool, datatype: str
) -> None:
    rows = (
        np.random.default_rng(0)
        .normal(10, 3, size=(5, 30))
        .astype(triton.triton_to_np_dtype(datatype))
    )
    tensor = triton.InferInput("input", list(rows.shape), datatype)
    tensor.set_data_from_numpy(rows, binary_data=True)
    outputs = [
        triton.InferRequestedOutput(n, binary_data=binary_output)
        for n in ("label", "probabilities")
    ]
    body, json_size = triton.InferenceServerClient.generate_request_body(
        [tensor], outputs=outputs, request_id="abc"
    )
    headers = {"Content-Type": "application/octet-stream"}
    if json_size is not None:
        headers["Inference-Header-Content-Length"] = str(json_size)
    response = handlers["BreastCancerFunction"](
        _event("/v2/models/breast_cancer/versions/2/infer", body, headers), None
    )
    assert response["statusCode"] == 200
    raw = (
        base64.b64decode(response["body"])
        if response["isBase64Encoded"]
        else response["body"].encode()
    )
    header_length = response["headers"].get("inference-header-content-length")
    assert (header_length is not None) == binary_output
    result = triton.InferResult.from_response_body(
        raw, header_length=int(header_length) if header_length else None
    )
    assert result.get_response()["id"] == "abc"
    session = ort.InferenceSession(
        str(repository.manifest("breast_cancer", "2").onnx_path), providers=["CPUExecutionProvider"]
    )
    label, proba = session.run(None, {"input": rows.astype(np.float32)})
    np.testing.assert_array_equal(result.as_numpy("label"), label)
    np.testing.assert_allclose(result.as_numpy("probabilities"), proba, rtol=1e-6)


def test_malformed_binary_request_is_a_400(handlers: dict[str, Handler]) -> None:
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [1, 30],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 120},
                }
            ]
        }
    ).encode()
    event = _event(
        "/v2/models/breast_cancer/infer",
        header + b"\x00" * 60,
        {"Inference-Header-Content-Length": str(len(header))},
    )
    response = handlers["BreastCancerFunction"](event, None)
    assert response["statusCode"] == 400
    assert "binary_data_size exceeds" in json.loads(response["body"])["error"]
