"""Train the sample models deterministically and write them into the model repository.

Every model comes from a dataset bundled with scikit-learn, so this runs offline and
gives the same models on every machine with the pinned scikit-learn / skl2onnx.
Run: `python scripts/train_models.py [--out layers/models]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import skl2onnx
import sklearn
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn import datasets
from sklearn.base import BaseEstimator
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "layers" / "models"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
CREATED = "2026-11-25T00:00:00Z"  # fixed so regenerating yields identical files


@dataclass(frozen=True)
class Recipe:
    name: str
    version: str
    dataset: str
    task: str  # "classification" | "regression"
    description: str
    make_estimator: Callable[[], BaseEstimator]


RECIPES: tuple[Recipe, ...] = (
    Recipe(
        "iris",
        "1",
        "load_iris",
        "classification",
        "Iris species from four flower measurements (logistic regression).",
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
    ),
    Recipe(
        "breast_cancer",
        "1",
        "load_breast_cancer",
        "classification",
        "Malignant vs benign tumour from 30 cell-nucleus features (logistic regression).",
        lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
    ),
    Recipe(
        "breast_cancer",
        "2",
        "load_breast_cancer",
        "classification",
        "Malignant vs benign tumour from 30 cell-nucleus features (random forest).",
        lambda: RandomForestClassifier(n_estimators=100, max_depth=8, random_state=0),
    ),
    Recipe(
        "diabetes",
        "1",
        "load_diabetes",
        "regression",
        "Disease progression one year after baseline from 10 features (gradient boosting).",
        lambda: GradientBoostingRegressor(n_estimators=150, max_depth=3, random_state=0),
    ),
    Recipe(
        "digits",
        "1",
        "load_digits",
        "classification",
        "Handwritten digit 0-9 from an 8x8 image, 64 pixel intensities 0-16 (MLP).",
        lambda: make_pipeline(
            StandardScaler(),
            MLPClassifier(hidden_layer_sizes=(64,), max_iter=600, random_state=0),
        ),
    ),
)

LABELS = {"breast_cancer": {"stable": "1", "canary": "2"}}


@dataclass
class Trained:
    recipe: Recipe
    estimator: Any
    X: np.ndarray
    y: np.ndarray
    feature_names: list[str]
    class_labels: list[str] | None
    metrics: dict[str, float]


def load_dataset(recipe: Recipe) -> tuple[np.ndarray, np.ndarray, list[str], list[str] | None]:
    bunch = getattr(datasets, recipe.dataset)()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    names = [str(n) for n in bunch.feature_names]
    labels = [str(t) for t in bunch.target_names] if recipe.task == "classification" else None
    return X, y, names, labels


def train(recipe: Recipe) -> Trained:
    X, y, names, labels = load_dataset(recipe)
    stratify = y if recipe.task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=stratify
    )
    estimator = recipe.make_estimator()
    estimator.fit(X_tr, y_tr)
    metrics: dict[str, float]
    if recipe.task == "classification":
        proba = estimator.predict_proba(X_te)
        metrics = {"accuracy": float(accuracy_score(y_te, estimator.predict(X_te)))}
        if proba.shape[1] == 2:
            metrics["roc_auc"] = float(roc_auc_score(y_te, proba[:, 1]))
    else:
        pred = estimator.predict(X_te)
        metrics = {"r2": float(r2_score(y_te, pred)), "mae": float(mean_absolute_error(y_te, pred))}
    metrics = {k: round(v, 4) for k, v in metrics.items()}
    # Refit on all data so the shipped model uses every sample; metrics stay holdout.
    estimator = recipe.make_estimator()
    estimator.fit(X, y)
    return Trained(recipe, estimator, X, y, names, labels, metrics)


def to_onnx(trained: Trained) -> bytes:
    n_features = trained.X.shape[1]
    initial = [("input", FloatTensorType([None, n_features]))]
    if trained.recipe.task == "classification":
        final = None
        final_est = trained.estimator
        if isinstance(final_est, Pipeline):
            final_est = final_est.steps[-1][1]
        options: dict[Any, Any] = {id(final_est): {"zipmap": False}}
    else:
        final = [("prediction", FloatTensorType([None, 1]))]
        options = {}
    onx = convert_sklearn(
        trained.estimator,
        initial_types=initial,
        final_types=final,
        options=options,
        target_opset=TARGET_OPSET,
    )
    onx.doc_string = trained.recipe.description
    onx.graph.name = f"{trained.recipe.name}_v{trained.recipe.version}"  # default is a random uuid
    return bytes(onx.SerializeToString())


def estimator_name(estimator: Any) -> str:
    if isinstance(estimator, Pipeline):
        return "Pipeline(" + ", ".join(type(s).__name__ for _, s in estimator.steps) + ")"
    return type(estimator).__name__


def manifest(trained: Trained, onnx_bytes: bytes) -> dict[str, Any]:
    recipe = trained.recipe
    n = trained.X.shape[1]
    if recipe.task == "classification":
        assert trained.class_labels is not None
        outputs = [
            {"name": "label", "datatype": "INT64", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, len(trained.class_labels)]},
        ]
    else:
        outputs = [{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}]
    return {
        "name": recipe.name,
        "version": recipe.version,
        "task": recipe.task,
        "description": recipe.description,
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, n]}],
        "outputs": outputs,
        "feature_names": trained.feature_names,
        "class_labels": trained.class_labels,
        "metrics": trained.metrics,
        "source": {
            "framework": f"scikit-learn {sklearn.__version__}",
            "estimator": estimator_name(trained.estimator),
            "converter": f"skl2onnx {skl2onnx.__version__}",
            "dataset": f"sklearn.datasets.{recipe.dataset}",
            "training_rows": int(trained.X.shape[0]),
        },
        "created": CREATED,
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
    }


def write(out: Path) -> None:
    for recipe in RECIPES:
        trained = train(recipe)
        onnx_bytes = to_onnx(trained)
        target = out / recipe.name / recipe.version
        target.mkdir(parents=True, exist_ok=True)
        (target / "model.onnx").write_bytes(onnx_bytes)
        text = json.dumps(manifest(trained, onnx_bytes), indent=2) + "\n"
        (target / "model.json").write_text(text)
        print(f"{recipe.name}/{recipe.version}: {len(onnx_bytes):,} bytes {trained.metrics}")
    for name, labels in LABELS.items():
        (out / name / "labels.json").write_text(json.dumps(labels, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    write(parser.parse_args().out)


if __name__ == "__main__":
    main()
