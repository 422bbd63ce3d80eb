"""Open Inference Protocol routes: infer with and without a version, metadata, ready."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

ROW = np.random.default_rng(7).normal(12, 4, size=30).round(2).tolist()
TENSOR = {"name": "input", "shape": [1, 30], "datatype": "FP32", "data": ROW}


@pytest.mark.parametrize(
    ("path", "version"),
    [("/v2/models/breast_cancer/infer", "1"), ("/v2/models/breast_cancer/versions/2/infer", "2")],
)
def test_infer_answers_with_the_version_named(
    breast_cancer: TestClient, path: str, version: str
) -> None:
    # breast_cancer splits 90/10 (traffic.json): this caller's sticky bucket is on version 1.
    sticky = {"x-user-id": "user-0"}
    response = breast_cancer.post(path, json={"id": "q", "inputs": [TENSOR]}, headers=sticky)
    assert response.status_code == 200
    body = response.json()
    assert (body["model_name"], body["model_version"], body["id"]) == (
        "breast_cancer",
        version,
        "q",
    )
    assert response.headers["x-model-version"] == version
    assert [o["name"] for o in body["outputs"]] == ["label", "probabilities"]


def test_metadata_with_and_without_a_version(breast_cancer: TestClient) -> None:
    meta = breast_cancer.get("/v2/models/breast_cancer").json()
    assert meta["name"] == "breast_cancer" and meta["versions"] == ["1", "2"]
    assert meta["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 30]}]
    assert breast_cancer.get("/v2/models/breast_cancer/versions/2").json() == meta
    assert breast_cancer.get("/v2/models/breast_cancer/versions/3").status_code == 404


def test_ready_for_the_default_and_a_named_version(breast_cancer: TestClient) -> None:
    assert breast_cancer.get("/v2/models/breast_cancer/ready").json() == {
        "name": "breast_cancer",
        "version": "1",
        "ready": True,
    }
    assert breast_cancer.get("/v2/models/breast_cancer/versions/2/ready").json()["version"] == "2"
    assert breast_cancer.get("/v2/models/breast_cancer/versions/3/ready").status_code == 404
