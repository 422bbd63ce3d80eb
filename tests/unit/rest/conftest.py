"""One breast_cancer model app (two versions, labels `stable` and `canary`) for router tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings


@pytest.fixture(scope="session")
def breast_cancer(models_dir: Path) -> TestClient:
    app = create_model_app(Settings(model_repository=models_dir, model_name="breast_cancer"))
    return TestClient(app, raise_server_exceptions=False)
