"""Fixtures shared by every test: repository paths and the shipped model repository."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from lambdaserve.repository import ModelRepository

# Machines here are shared and noisy: no test may fail because something was slow.
settings.register_profile(
    "lambdaserve",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("lambdaserve")

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "layers" / "models"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def repository() -> ModelRepository:
    return ModelRepository(MODELS)
