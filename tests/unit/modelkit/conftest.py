"""Temp copies of the project (never the real repository or template) and model sources."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import onnx
import pandas as pd
import pytest
from onnx import TensorProto, helper

from lambdaserve.local import template
from lambdaserve.modelkit.project import Project

ROOT = Path(__file__).resolve().parents[3]


def copy_project(target: Path) -> Project:
    (target / "layers").mkdir(parents=True)
    shutil.copytree(ROOT / "layers" / "models", target / "layers" / "models")
    shutil.copytree(
        ROOT / "layers" / "runtime",
        target / "layers" / "runtime",
        ignore=shutil.ignore_patterns("python", "__pycache__"),
    )
    shutil.copytree(ROOT / "events" / "api", target / "events" / "api")
    shutil.copytree(ROOT / "functions", target / "functions")
    shutil.copy(ROOT / "template.yaml", target / "template.yaml")
    shutil.copy(ROOT / "samconfig.toml", target / "samconfig.toml")
    return Project.at(target)


def snapshot(project: Project) -> dict[str, bytes]:
    """Every file of the repository, template and events, by path."""
    files = {str(project.template): project.template.read_bytes()}
    for base in (project.models, project.events):
        for path in sorted(base.rglob("*")):
            files[str(path)] = path.read_bytes() if path.is_file() else b"<dir>"
    return files


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

    found["custom_op"] = _onnx_file(out / "custom_op.onnx", "Frobnicate", "com.example", 1)
    found["future_opset"] = _onnx_file(out / "future.onnx", "Relu", "", 99)
    found["matmul"] = _matmul_file(out / "matmul.onnx")
    return found


def _onnx_file(path: Path, op: str, domain: str, opset: int) -> Path:
    node = helper.make_node(op, ["input"], ["prediction"], domain=domain)
    model = helper.make_model(
        helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3])],
            [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 3])],
        ),
        opset_imports=[helper.make_opsetid(domain, opset)]
        + ([helper.make_opsetid("", 17)] if domain else []),
    )
    path.write_bytes(model.SerializeToString())
    return path


def _matmul_file(path: Path) -> Path:
    """A small dense net (MatMul + Add + Relu), as neural exporters write them."""
    rng = np.random.default_rng(1)
    w1 = helper.make_tensor("w1", TensorProto.FLOAT, [8, 256], rng.normal(size=2048).tolist())
    w2 = helper.make_tensor("w2", TensorProto.FLOAT, [256, 1], (rng.normal(size=256) / 16).tolist())
    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["prediction"]),
    ]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "dense",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 8])],
            [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
            initializer=[w1, w2],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path


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


def frame(rows: Any, like: Any) -> Any:
    """Rows as the source was fitted: a DataFrame when it knows feature names."""
    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(
            np.asarray(rows, dtype=np.float32).astype(np.float64), columns=like.columns
        )
    return np.asarray(rows, dtype=np.float32).astype(np.float64)
