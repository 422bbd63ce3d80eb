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


# The text sample: product reviews made up from phrase lists (no dataset to download), a
# TF-IDF + logistic regression pipeline, imported with `lambdaserve add-model` (make
# text-model) like a user's own model, so the import and the template wiring are exercised.
TEXT_MODEL = "reviews"
TEXT_CLASSES = ("negative", "neutral", "positive")
_PRODUCTS = ("blender", "kettle", "headphones", "backpack", "lamp", "keyboard", "jacket", "tent")
_PHRASES = {
    "negative": (
        "broke after two days",
        "terrible quality",
        "a waste of money",
        "stopped working",
        "very disappointed",
        "would not buy again",
        "arrived damaged",
        "poor customer service",
    ),
    "neutral": (
        "does the job",
        "about what I expected",
        "average quality",
        "it is okay",
        "nothing special",
        "fine for the price",
        "works as described",
        "neither good nor bad",
    ),
    "positive": (
        "works perfectly",
        "excellent quality",
        "love it",
        "highly recommend",
        "great value",
        "exceeded my expectations",
        "very happy with it",
        "best purchase this year",
    ),
}
_FILLERS = ("", "honestly", "overall", "the delivery was quick and", "my second one,", "so far")


def review_texts(rows: int, seed: int) -> tuple[list[str], list[str]]:
    """(texts, classes): reviews of one or two phrases, one in five mixing in another class."""
    rng = np.random.default_rng(seed)
    texts, classes = [], []
    for _ in range(rows):
        cls = TEXT_CLASSES[int(rng.integers(len(TEXT_CLASSES)))]
        phrases = [str(rng.choice(_PHRASES[cls]))]
        if rng.random() < 0.2:
            other = TEXT_CLASSES[int(rng.integers(len(TEXT_CLASSES)))]
            phrases.append(str(rng.choice(_PHRASES[other])))
        elif rng.random() < 0.5:
            phrases.append(str(rng.choice(_PHRASES[cls])))
        product = str(rng.choice(_PRODUCTS))
        filler = str(rng.choice(_FILLERS))
        text = f"{filler} the {product} {' and '.join(phrases)}".strip()
        texts.append(text[0].upper() + text[1:] + ".")
        classes.append(cls)
    return texts, classes


def train_text() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts, classes = review_texts(600, seed=0)
    # Unigrams, plain tf: skl2onnx's bigrams and sublinear tf disagree with scikit-learn
    # (by up to 0.07 in probability; add-model's validation refuses them).
    pipeline = make_pipeline(TfidfVectorizer(), LogisticRegression(max_iter=1000))
    return pipeline.fit(texts, classes)


def write_text_source(out: Path) -> tuple[Path, Path]:
    """The pickled pipeline and a holdout CSV (text, target) for `lambdaserve add-model`."""
    import csv

    import joblib

    out.mkdir(parents=True, exist_ok=True)
    model, holdout = out / f"{TEXT_MODEL}.joblib", out / f"{TEXT_MODEL}_holdout.csv"
    joblib.dump(train_text(), model)
    texts, classes = review_texts(200, seed=1)
    with holdout.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "target"])
        writer.writerows(zip(texts, classes, strict=True))
    print(f"{model} and {holdout}")
    return model, holdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--text-source",
        type=Path,
        help="write the text model's joblib file and holdout CSV here instead",
    )
    args = parser.parse_args()
    if args.text_source:
        write_text_source(args.text_source)
    else:
        write(args.out)


if __name__ == "__main__":
    main()
