"""Fixtures: temp copies of the project (never the real repository or template), sources."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
from modelkit_helpers import copy_project, matmul_file, onnx_file

from lambdaserve.local import template
from lambdaserve.modelkit.project import Project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Model files of every kind, with the fitted source objects to compare against."""
    from lightgbm import LGBMClassifier
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = tmp_path_factory.mktemp("sources")
    found: dict[str, Any] = {}

    wine = load_wine(as_frame=True)
    pipeline = make_pipeline(StandardScaler(), PCA(n_components=6), LogisticRegression()).fit(
        wine.data, wine.target
    )
    joblib.dump(pipeline, out / "wine.joblib")
    holdout = wine.data.copy()
    holdout["target"] = wine.target
    holdout.iloc[::4].to_csv(out / "wine_holdout.csv", index=False)
    found["wine"] = (out / "wine.joblib", pipeline, wine.data)
    found["wine_target"] = wine.target

    X, y = load_breast_cancer(return_X_y=True)
    booster = LGBMClassifier(n_estimators=25, num_leaves=8, verbose=-1).fit(X, y)
    joblib.dump(booster, out / "cancer_lgbm.pkl")
    found["lightgbm"] = (out / "cancer_lgbm.pkl", booster, X)

    Xd, yd = load_diabetes(return_X_y=True)
    broken = LinearRegression().fit(Xd, yd)
    broken.coef_[:] = np.nan
    joblib.dump(broken, out / "nan_regressor.joblib")
    found["nan"] = out / "nan_regressor.joblib"

    (out / "notes.pkl").write_bytes(b"these are not the weights you are looking for\n")
    found["not_a_model"] = out / "notes.pkl"
    joblib.dump({"weights": [1, 2, 3]}, out / "dict.joblib")
    found["dict"] = out / "dict.joblib"

    found["custom_op"] = onnx_file(out / "custom_op.onnx", "Frobnicate", "com.example", 1)
    found["future_opset"] = onnx_file(out / "future.onnx", "Relu", "", 99)
    found["matmul"] = matmul_file(out / "matmul.onnx")
    return found


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Project, str], Handler]]:
    """The real model_api handler of a project copy, for one model (loaded fresh)."""

    def load(project: Project, name: str) -> Handler:
        tpl = template.load(project.template)
        (function,) = [f for f in tpl.functions.values() if f.environment.get("MODEL_NAME") == name]
        for key, value in function.environment.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("LAMBDASERVE_MODEL_REPOSITORY", str(project.models))
        module_name, attr = function.handler.rsplit(".", 1)
        spec = importlib.util.spec_from_file_location(
            f"byom_{name}_{id(project)}", function.code_uri / f"{module_name}.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        handler: Handler = getattr(module, attr)
        return handler

    yield load
