"""/health reports a model whose traffic.json is broken, instead of serving one version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lambdaserve.rest.app import create_index_app
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings


@pytest.mark.parametrize(
    "content",
    ["{", '{"split": {"3": 100}}', '{"split": {"stable": 90}, "sticky": "x-user-id"}'],
)
def test_health_names_a_model_with_a_broken_traffic_json(tmp_path: Path, content: str) -> None:
    for name in ("breast_cancer", "iris"):
        shutil.copytree(SOURCE_MODEL_REPOSITORY / name, tmp_path / name)
    (tmp_path / "breast_cancer" / "traffic.json").write_text(content)
    index = TestClient(create_index_app(Settings(model_repository=tmp_path)))
    health = index.get("/health")
    assert health.status_code == 503
    assert health.json()["broken"] == ["breast_cancer"]
    ready = index.get("/v2/health/ready").json()
    assert ready["ready"] is False and list(ready["unready"]) == ["breast_cancer"]


def test_health_is_green_with_the_shipped_traffic_json() -> None:
    index = TestClient(create_index_app(Settings(model_repository=SOURCE_MODEL_REPOSITORY)))
    assert index.get("/health").json()["broken"] == []
