"""The rollout parts in a real model app: header, stickiness, path bypass, shadow log, override."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws
from sklearn.datasets import load_breast_cancer

from lambdaserve import snapstart
from lambdaserve.dataplane import PathSelector, create_dataplane
from lambdaserve.errors import ModelLoadError
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings
from lambdaserve.traffic.selector import TrafficSelector
from lambdaserve.traffic.shadow import ShadowStage

ROW = [float(v) for v in load_breast_cancer().data[0]]
PARAMETER = "/lambdaserve/local/breast_cancer/traffic"


def app(**overrides: Any) -> TestClient:
    # No prediction cache: a cached answer runs no model, so no shadow either.
    settings = Settings(model_name="breast_cancer", cache_entries=0, **overrides)
    return TestClient(create_model_app(settings))


@pytest.fixture(scope="module")
def client() -> TestClient:
    return app()


def predict(client: TestClient, path: str = "/models/breast_cancer/predict", **headers: str) -> Any:
    return client.post(path, json={"features": ROW}, headers=headers)


def test_every_answer_names_its_version_in_the_header_and_body(client: TestClient) -> None:
    for _ in range(50):
        reply = predict(client)
        assert reply.status_code == 200
        assert reply.headers["x-model-version"] == reply.json()["version"]
    v2 = client.post(
        "/v2/models/breast_cancer/infer",
        json={"inputs": [{"name": "input", "shape": [1, 30], "datatype": "FP64", "data": ROW}]},
        headers={"x-user-id": "user-1"},
    )
    assert v2.headers["x-model-version"] == v2.json()["model_version"]


def test_sticky_callers_keep_their_version_and_the_split_is_90_10(client: TestClient) -> None:
    seen = {}
    for i in range(400):
        user = f"user-{i}"
        seen[user] = predict(client, **{"x-user-id": user}).headers["x-model-version"]
    for user, version in list(seen.items())[:50]:
        assert predict(client, **{"X-User-Id": user}).headers["x-model-version"] == version
    share = Counter(seen.values())["2"] / len(seen)
    assert 0.04 < share < 0.18  # 10% of 400: sd 1.5 points


def test_a_path_version_or_label_bypasses_the_split(client: TestClient) -> None:
    for _ in range(30):
        assert predict(client, "/models/breast_cancer/versions/1/predict").json()["version"] == "1"
        tf = client.post(
            "/v1/models/breast_cancer/labels/canary:predict", json={"instances": [ROW]}
        )
        assert tf.headers["x-model-version"] == "2"


def test_the_shadow_is_logged_for_requests_on_the_primary(
    client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = predict(client, **{"x-user-id": "user-0"})  # a bucket below 9,000: version 1
    assert reply.headers["x-model-version"] == "1"
    out = capsys.readouterr().out.splitlines()
    lines = [json.loads(text) for text in out if "shadow" in text]
    [line] = lines  # one EMF record per comparison, from the metrics stage
    assert line["model"] == "breast_cancer" and line["primary_version"] == "1"
    assert line["version"] == "2" and line["shadow_status"] in {"compared", "timeout"}
    assert line["inference_id"] == reply.headers["x-inference-id"]
    metrics = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert {"Name": "ShadowComparisons", "Unit": "Count"} in metrics
    if line["shadow_status"] == "compared":
        assert line["ShadowAgreement"] == 1.0  # both versions call this row malignant


def test_models_without_a_policy_keep_the_plain_selector() -> None:
    plane = create_dataplane(Settings(model_name="iris"), served=["iris"])
    assert isinstance(plane.selector, PathSelector)
    assert not any(isinstance(s, ShadowStage) for s in plane.stages)
    batch = create_dataplane(Settings())
    assert isinstance(batch.selector, PathSelector)
    assert not any(isinstance(s, ShadowStage) for s in batch.stages)
    bc = create_dataplane(Settings(model_name="breast_cancer"), served=["breast_cancer"])
    assert isinstance(bc.selector, TrafficSelector)
    assert isinstance(bc.stages[-1], ShadowStage)  # innermost, by the model


def test_a_malformed_traffic_json_stops_the_function_at_init(tmp_path: Path) -> None:
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "breast_cancer", tmp_path / "breast_cancer")
    (tmp_path / "breast_cancer" / "traffic.json").write_text('{"split": {"stable": 90, "v2": 10}}')
    with pytest.raises(ModelLoadError, match="'v2', which is neither a version nor a label"):
        create_model_app(Settings(model_name="breast_cancer", model_repository=tmp_path))


def test_snapstart_restore_reseeds_and_rereads_the_override() -> None:
    assert "traffic-rng" in snapstart.after_restore_hooks()


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("ssm")
        client.put_parameter(Name=PARAMETER, Value="{}", Type="String")
        yield client


def test_a_runtime_override_takes_effect_within_the_ttl(ssm: Any) -> None:
    client = app(traffic_parameter=PARAMETER, traffic_ttl_seconds=0)
    plane = client.app.state.dataplane  # type: ignore[attr-defined]
    override = plane.selector.source.override
    assert override.wait(10)
    assert {predict(client).headers["x-model-version"] for _ in range(60)} == {"1", "2"}
    ssm.put_parameter(Name=PARAMETER, Value='{"split": {"canary": 100}}', Overwrite=True)
    predict(client)  # starts the read (TTL 0: every request may start one)
    assert override.wait(10)
    assert {predict(client).headers["x-model-version"] for _ in range(60)} == {"2"}
    assert "traffic-override" in snapstart.after_restore_hooks()
    ssm.put_parameter(Name=PARAMETER, Value="{}", Overwrite=True)
    predict(client)
    assert override.wait(10)
    assert {predict(client).headers["x-model-version"] for _ in range(60)} == {"1", "2"}
