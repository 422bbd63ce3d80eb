"""TF Serving routes: the verb after the colon, versions and labels, status and metadata."""

from __future__ import annotations

import numpy as np
import pytest
from fastapi.testclient import TestClient

from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

ROW = np.random.default_rng(6).normal(12, 4, size=30).round(2).tolist()
NAMES = ModelRepository(SOURCE_MODEL_REPOSITORY).manifest("breast_cancer", "1").feature_names
EXAMPLE = dict(zip(NAMES, ROW, strict=True))


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/v1/models/breast_cancer:predict", "1"),
        ("/v1/models/breast_cancer/versions/2:predict", "2"),
        ("/v1/models/breast_cancer/labels/canary:predict", "2"),
        ("/v1/models/breast_cancer/labels/stable:predict", "1"),
    ],
)
def test_predict_on_each_path_form(breast_cancer: TestClient, path: str, version: str) -> None:
    # breast_cancer splits 90/10 (traffic.json): this caller's sticky bucket is on version 1.
    response = breast_cancer.post(path, json={"instances": [ROW]}, headers={"x-user-id": "user-0"})
    assert response.status_code == 200
    assert response.headers["x-model-version"] == version
    (prediction,) = response.json()["predictions"]
    assert set(prediction) == {"label", "probabilities"}


def test_classify_uses_the_verb_and_the_named_features(breast_cancer: TestClient) -> None:
    response = breast_cancer.post(
        "/v1/models/breast_cancer/versions/2:classify", json={"examples": [EXAMPLE]}
    )
    assert response.status_code == 200
    ((first, second),) = response.json()["results"]
    assert [first[0], second[0]] == ["malignant", "benign"]
    assert first[1] + second[1] == pytest.approx(1.0, abs=1e-6)
    regress = breast_cancer.post("/v1/models/breast_cancer:regress", json={"examples": [EXAMPLE]})
    assert regress.status_code == 400 and "is a classifier" in regress.json()["error"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/models/breast_cancer", "expected <name>:predict"),
        ("/v1/models/breast_cancer:explain", "unsupported method 'explain'"),
        ("/v1/models/breast_cancer/labels/canary", "expected <name>:predict"),
    ],
)
def test_a_post_without_a_known_verb_is_a_400(
    breast_cancer: TestClient, path: str, message: str
) -> None:
    response = breast_cancer.post(path, json={"instances": [ROW]})
    assert response.status_code == 400 and message in response.json()["error"]


def test_status_lists_every_version_or_the_one_named(breast_cancer: TestClient) -> None:
    def versions(path: str) -> list[str]:
        statuses = breast_cancer.get(path).json()["model_version_status"]
        assert {s["state"] for s in statuses} == {"AVAILABLE"}
        return [s["version"] for s in statuses]

    assert versions("/v1/models/breast_cancer") == ["1", "2"]
    assert versions("/v1/models/breast_cancer/versions/2") == ["2"]
    assert versions("/v1/models/breast_cancer/labels/canary") == ["2"]
    verb = breast_cancer.get("/v1/models/breast_cancer:predict")
    assert verb.status_code == 400 and "use POST" in verb.json()["error"]
    assert breast_cancer.get("/v1/models/breast_cancer/labels/beta").status_code == 404


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/v1/models/breast_cancer/metadata", "1"),
        ("/v1/models/breast_cancer/versions/2/metadata", "2"),
        ("/v1/models/breast_cancer/labels/canary/metadata", "2"),
    ],
)
def test_metadata_of_the_version_named(breast_cancer: TestClient, path: str, version: str) -> None:
    meta = breast_cancer.get(path).json()
    assert meta["model_spec"] == {"name": "breast_cancer", "signature_name": "", "version": version}
    signature = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["inputs"]["input"]["dtype"] == "DT_FLOAT"
