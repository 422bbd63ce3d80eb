"""A missing or corrupt model file: the function starts, says the version is not ready and
why (its V2 ready route, 503 on predictions), and the index's health routes name the model,
instead of an init failure that Lambda retries on every request."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lambdaserve.rest.app import create_index_app, create_model_app
from lambdaserve.settings import Settings

ROW = [5.1, 3.5, 1.4, 0.2]
BREAKS = {
    "missing": (lambda path: path.unlink(), "no model.onnx"),
    "corrupt": (lambda path: path.write_bytes(b"\x08\x07garbage"), "is corrupt or not an ONNX"),
    "truncated": (lambda path: path.write_bytes(path.read_bytes()[:100]), "is corrupt"),
}


@pytest.fixture(params=sorted(BREAKS))
def broken(request: pytest.FixtureRequest, models_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A repository whose iris version 1 model.onnx is missing, garbage or cut short; the
    other models are intact."""
    root = tmp_path / "repo"
    shutil.copytree(models_dir, root)
    damage, reason = BREAKS[request.param]
    damage(root / "iris" / "1" / "model.onnx")
    return root, reason


def test_the_model_function_starts_and_says_which_version_is_not_ready_and_why(
    broken: tuple[Path, str],
) -> None:
    root, reason = broken
    app = create_model_app(Settings(model_repository=root, model_name="iris"))
    client = TestClient(app, raise_server_exceptions=False)
    ready = client.get("/v2/models/iris/ready")
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert reason in ready.json()["reason"] and "iris" in ready.json()["reason"]
    for path, body in (
        ("/models/iris/predict", {"features": ROW}),
        ("/v1/models/iris:predict", {"instances": [ROW]}),
    ):
        refused = client.post(path, json=body)
        assert refused.status_code == 503
        message = refused.json()["error"]
        assert message.startswith("model 'iris' version 1 is not ready: cannot load model")
        assert str(root) not in message and "onnxruntime" not in message.lower()


def test_the_index_names_the_broken_model_on_both_health_routes(broken: tuple[Path, str]) -> None:
    root, reason = broken
    client = TestClient(create_index_app(Settings(model_repository=root)))
    health = client.get("/health")
    assert health.status_code == 503
    assert health.json()["broken"] == ["iris"]
    assert reason in health.json()["reasons"]["iris"]
    ready = client.get("/v2/health/ready")
    assert ready.status_code == 503
    assert list(ready.json()["unready"]) == ["iris"]


def test_a_repaired_file_is_noticed_by_the_index(
    broken: tuple[Path, str], models_dir: Path
) -> None:
    root, _ = broken
    client = TestClient(create_index_app(Settings(model_repository=root)))
    assert client.get("/health").status_code == 503
    shutil.copy(models_dir / "iris" / "1" / "model.onnx", root / "iris" / "1" / "model.onnx")
    assert client.get("/health").json()["status"] == "healthy"
