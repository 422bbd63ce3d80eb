"""Seed-style routes: predict with and without a version, and model info."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

ROW = np.random.default_rng(5).normal(12, 4, size=30).round(2).tolist()


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/models/breast_cancer/predict", "1"),
        ("/models/breast_cancer/versions/1/predict", "1"),
        ("/models/breast_cancer/versions/2/predict", "2"),
    ],
)
def test_predict_answers_with_the_version_of_the_path_or_the_default(
    breast_cancer: TestClient, path: str, version: str
) -> None:
    # breast_cancer splits 90/10 (traffic.json): this caller's sticky bucket is on version 1.
    response = breast_cancer.post(path, json={"features": ROW}, headers={"x-user-id": "user-0"})
    assert response.status_code == 200
    body = response.json()
    assert (body["model"], body["version"]) == ("breast_cancer", version)
    assert response.headers["x-model-version"] == version
    assert body["label"] in ("malignant", "benign")
    sticky = {"x-user-id": "user-0"}  # without it, 1 batch in 10 would go to the canary
    batch = breast_cancer.post(path, json={"instances": [ROW, ROW]}, headers=sticky).json()
    assert batch["predictions"] == [{k: body[k] for k in body if k not in ("model", "version")}] * 2


def test_model_info_with_and_without_a_version(breast_cancer: TestClient) -> None:
    default = breast_cancer.get("/models/breast_cancer").json()
    assert default["version"] == "1" and default["default_version"] == "1"
    assert default["versions"] == ["1", "2"]
    assert default["labels"] == {"stable": "1", "canary": "2"}
    assert len(default["feature_names"]) == 30
    second = breast_cancer.get("/models/breast_cancer/versions/2").json()
    assert second["version"] == "2" and second["default_version"] == "1"
    missing = breast_cancer.get("/models/breast_cancer/versions/5")
    assert missing.status_code == 404 and "no version '5'" in missing.json()["error"]


def test_another_functions_model_is_not_found_here(breast_cancer: TestClient) -> None:
    response = breast_cancer.post("/models/iris/predict", json={"features": [1, 2, 3, 4]})
    assert response.status_code == 404
    assert response.json() == {"error": "model 'iris' not found"}
    assert breast_cancer.get("/models/iris").status_code == 404
