"""The index function's routes: health, the model list, V2 server routes, named 404s."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from fastapi.testclient import TestClient

from lambdaserve.rest.app import create_index_app
from lambdaserve.settings import Settings


def index(root: Path) -> TestClient:
    return TestClient(create_index_app(Settings(model_repository=root)))


def test_health_and_v2_server_routes(models_dir: Path) -> None:
    client = index(models_dir)
    health = client.get("/health").json()
    assert health["status"] == "healthy" and health["models"] == 5 and health["broken"] == []
    assert client.get("/v2").json()["extensions"] == ["binary_tensor_data"]
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}


def test_model_list_names_versions_labels_and_endpoints(models_dir: Path) -> None:
    models = {m["name"]: m for m in index(models_dir).get("/models").json()["models"]}
    assert sorted(models) == ["breast_cancer", "diabetes", "digits", "iris", "reviews"]
    cancer = models["breast_cancer"]
    assert cancer["default_version"] == "1" and cancer["versions"] == ["1", "2"]
    assert cancer["labels"] == {"stable": "1", "canary": "2"}
    assert cancer["endpoints"]["tfserving"] == "/v1/models/breast_cancer:predict"
    assert models["diabetes"]["task"] == "regression"


def test_unknown_models_and_paths_are_named_404s(models_dir: Path) -> None:
    client = index(models_dir)
    assert client.post("/v1/models/nope:predict", json={}).json() == {
        "error": "model 'nope' not found"
    }
    assert client.get("/v2/models/nope/ready").status_code == 404
    other = client.get("/somewhere/else")
    assert other.status_code == 404
    assert other.json() == {"error": "no route for GET /somewhere/else"}


def test_an_empty_or_broken_repository_is_unhealthy(models_dir: Path, tmp_path: Path) -> None:
    empty = index(tmp_path)
    assert empty.get("/health").status_code == 503
    assert empty.get("/v2/health/ready").json() == {"ready": False}
    broken_root = tmp_path / "repo"
    shutil.copytree(models_dir / "iris", broken_root / "iris")
    manifest = broken_root / "iris" / "1" / "model.json"
    manifest.write_text(json.dumps({"name": "iris"}))
    broken = index(broken_root).get("/health")
    assert broken.status_code == 503 and broken.json()["broken"] == ["iris"]
