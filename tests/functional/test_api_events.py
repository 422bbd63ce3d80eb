"""Every events/api/*.json through the real Lambda handler that owns its route (via Mangum).

Predictions through every protocol must equal a direct onnxruntime run on the same input.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from lambda_functions import FunctionSpec, Handler, route_owner

from lambdaserve.repository import ModelRepository

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events" / "api").glob("*.json"))
PREDICT_KINDS = ("predict", "tf_predict", "v2_infer")


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _call(handlers: dict[str, Handler], specs: dict[str, FunctionSpec], event: dict[str, Any]):
    response = handlers[route_owner(specs, event["routeKey"])](event, None)
    assert response["headers"]["content-type"].startswith("application/json")
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def _direct(repository: ModelRepository, name: str, version: str, rows: Any) -> dict[str, Any]:
    manifest = repository.manifest(name, version)
    session = ort.InferenceSession(str(manifest.onnx_path), providers=["CPUExecutionProvider"])
    text = manifest.inputs[0].datatype == "BYTES"  # a text model: rows of strings
    x = np.asarray(rows, dtype=object if text else np.float32)
    x = x.reshape(-1, manifest.inputs[0].shape[-1])
    return dict(
        zip([o.name for o in session.get_outputs()], session.run(None, {"input": x}), strict=False)
    )


def test_there_are_events_for_every_model_and_route_family(repository: ModelRepository) -> None:
    names = {p.stem for p in EVENTS}
    for model in repository.names():
        for kind in (
            "predict",
            "info",
            "tf_predict",
            "tf_status",
            "tf_metadata",
            "v2_infer",
            "v2_metadata",
            "v2_ready",
        ):
            assert f"{model}_{kind}" in names
    assert {"index_health", "index_models", "index_v2_live", "index_v2_ready"} <= names


@pytest.mark.parametrize("path", EVENTS, ids=[p.stem for p in EVENTS])
def test_event_answers_through_its_handler(
    path: Path, handlers: dict[str, Handler], function_specs: dict[str, FunctionSpec]
) -> None:
    status, body, _ = _call(handlers, function_specs, _load(path))
    if path.stem == "index_unknown_model":
        assert status == 404 and body == {"error": "model 'nope' not found"}
    else:
        assert status == 200, body
        assert "error" not in body


def _check_simple(event: dict[str, Any], body: dict[str, Any], repository: ModelRepository) -> None:
    request = json.loads(event["body"])
    name = body["model"]
    manifest = repository.manifest(name, body["version"])
    if "features" in request:
        features = request["features"]
        if isinstance(features, dict):
            features = [features[f] for f in manifest.feature_names]
        rows, results = [features], [body]
    else:
        rows, results = request["instances"], body["predictions"]
    direct = _direct(repository, name, body["version"], rows)
    for i, result in enumerate(results):
        if manifest.is_classifier:
            label = direct["label"][i]
            assert result["prediction"] == (label if isinstance(label, str) else int(label))
            best = int(np.argmax(direct["probabilities"][i]))
            assert result["label"] == manifest.class_labels[best]
            probs = [result["probabilities"][c] for c in manifest.class_labels]
            np.testing.assert_allclose(probs, direct["probabilities"][i], rtol=1e-6)
        else:
            np.testing.assert_allclose(result["prediction"], direct["prediction"][i, 0], rtol=1e-6)


def _tf_version(
    event: dict[str, Any], repository: ModelRepository, name: str, answered: str
) -> str:
    """The version the path pins; an unpinned path follows the model's traffic policy."""
    tail = event["rawPath"].split(f"/v1/models/{name}", 1)[1]
    if tail.startswith("/versions/"):
        return tail.split("/")[2].split(":")[0]
    if tail.startswith("/labels/"):
        return repository.labels(name)[tail.split("/")[2].split(":")[0]]
    policy = repository.traffic(name)
    routed = {v for v, w in policy.split if w > 0} if policy else {repository.resolve(name)}
    assert answered in routed
    return answered


def _same(got: Any, expected: np.ndarray) -> None:
    if expected.dtype.kind == "O":  # string outputs (a text model's labels)
        assert np.asarray(got, dtype=object).tolist() == expected.tolist()
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def _check_tf(
    event: dict[str, Any],
    body: dict[str, Any],
    repository: ModelRepository,
    name: str,
    version: str,
):
    request = json.loads(event["body"])
    direct = _direct(repository, name, version, request.get("instances", request.get("inputs")))
    if "predictions" in body:
        got = body["predictions"]
        if len(direct) == 1:
            _same(got, next(iter(direct.values())))
        else:
            for out, expected in direct.items():
                _same([row[out] for row in got], expected)
    else:
        outputs = body["outputs"]
        if len(direct) == 1:
            outputs = {next(iter(direct)): outputs}
        for out, expected in direct.items():
            _same(outputs[out], expected)


def _check_v2(event: dict[str, Any], body: dict[str, Any], repository: ModelRepository, name: str):
    request = json.loads(event["body"])
    tensor = request["inputs"][0]
    direct = _direct(repository, name, body["model_version"], tensor["data"])
    wanted = [o["name"] for o in request.get("outputs", [])] or list(direct)
    assert [o["name"] for o in body["outputs"]] == wanted
    assert body.get("id") == request.get("id")
    for out in body["outputs"]:
        expected = direct[out["name"]]
        assert out["shape"] == list(expected.shape)
        _same(np.reshape(np.asarray(out["data"], dtype=expected.dtype), out["shape"]), expected)


PREDICTIONS = [p for p in EVENTS if any(f"_{k}" in p.stem for k in PREDICT_KINDS)]


@pytest.mark.parametrize("path", PREDICTIONS, ids=[p.stem for p in PREDICTIONS])
def test_prediction_equals_direct_onnxruntime(
    path: Path,
    handlers: dict[str, Handler],
    function_specs: dict[str, FunctionSpec],
    repository: ModelRepository,
) -> None:
    event = _load(path)
    status, body, headers = _call(handlers, function_specs, event)
    assert status == 200, body
    name = next(n for n in repository.names() if path.stem.startswith(n + "_"))
    kind = path.stem[len(name) + 1 :]
    if kind.startswith("predict"):
        _check_simple(event, body, repository)
        answered = body["version"]
    elif kind.startswith("tf_predict"):
        answered = _tf_version(event, repository, name, headers["x-model-version"])
        _check_tf(event, body, repository, name, answered)
    else:
        _check_v2(event, body, repository, name)
        answered = body["model_version"]
    assert headers["x-model-version"] == answered
