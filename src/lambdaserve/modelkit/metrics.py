"""Holdout metrics for model.json, computed on what will be served: the ONNX outputs."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lambdaserve.modelkit.errors import ModelKitError


def _as_labels(targets: tuple[str, ...], predicted: np.ndarray) -> np.ndarray:
    if predicted.dtype.kind in "iuf":
        try:
            return np.asarray([float(t) for t in targets])
        except ValueError:
            raise ModelKitError(
                "holdout targets are not numbers, but the model predicts numeric classes"
            ) from None
    return np.asarray(targets, dtype=object)


def classification(
    targets: tuple[str, ...], outputs: Mapping[str, np.ndarray], class_labels: tuple[str, ...]
) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, roc_auc_score

    predicted = np.asarray(outputs["label"]).reshape(-1)
    truth = _as_labels(targets, predicted)
    if predicted.dtype.kind not in "iuf":
        predicted = predicted.astype(str).astype(object)
        truth = truth.astype(str).astype(object)
    metrics = {"accuracy": float(accuracy_score(truth, predicted))}
    proba = outputs.get("probabilities")
    if proba is not None and np.asarray(proba).shape[-1] == 2 and len(class_labels) == 2:
        positive = class_labels[1]
        hits = np.asarray([str(t) == positive or _same_number(t, positive) for t in targets])
        if 0 < hits.sum() < hits.size:
            metrics["roc_auc"] = float(roc_auc_score(hits, np.asarray(proba)[:, 1]))
    return {k: round(v, 4) for k, v in metrics.items()}


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def regression(targets: tuple[str, ...], outputs: Mapping[str, np.ndarray]) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, r2_score

    predicted = np.asarray(next(iter(outputs.values())), dtype=np.float64).reshape(len(targets), -1)
    try:
        truth = np.asarray([float(t) for t in targets])
    except ValueError:
        raise ModelKitError("holdout targets of a regressor must be numbers") from None
    metrics = {
        "r2": float(r2_score(truth, predicted[:, 0])),
        "mae": float(mean_absolute_error(truth, predicted[:, 0])),
    }
    return {k: round(v, 4) for k, v in metrics.items()}
