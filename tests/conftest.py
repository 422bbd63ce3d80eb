"""Fixtures shared by every test: repository paths and the shipped model repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.repository import ModelRepository

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
