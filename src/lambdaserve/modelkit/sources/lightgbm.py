"""LightGBM models (scikit-learn API, a Booster, or a saved text model) -> ONNX with onnxmltools."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.graph import rename_outputs
from lambdaserve.modelkit.sources.base import Source

# onnxmltools' LightGBM converter knows opsets up to this one.
LIGHTGBM_OPSET = 15
CLASSIFIER_OBJECTIVES = ("binary", "multiclass", "multiclassova", "softmax", "ova", "cross_entropy")


def is_lightgbm(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "lightgbm" and hasattr(obj, "predict")


def is_text_model(path: Path) -> bool:
    """LightGBM's `Booster.save_model` text format starts with a `tree` line."""
    try:
        with path.open("rb") as handle:
            return handle.read(5) == b"tree\n"
    except OSError:
        return False


def load_text_model(path: Path) -> Any:
    import lightgbm

    try:
        return lightgbm.Booster(model_file=str(path))
    except Exception as exc:  # LightGBMError or a parse failure
        raise ModelKitError(f"{path} is not a readable LightGBM model: {exc}") from None


def convert(model: Any, what: str) -> Source:
    import lightgbm
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = model if isinstance(model, lightgbm.Booster) else getattr(model, "booster_", None)
    if booster is None:
        raise ModelKitError(f"{what}: the LightGBM model is not fitted")
    objective = str(booster.dump_model().get("objective", "")).split()[0]
    classifier = objective in CLASSIFIER_OBJECTIVES
    width = booster.num_feature()
    try:
        onx = onnxmltools.convert_lightgbm(
            model,
            initial_types=[("input", FloatTensorType([None, width]))],
            target_opset=LIGHTGBM_OPSET,
            zipmap=False,
        )
    except Exception as exc:  # onnxmltools raises many unrelated types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelKitError(f"{what}: onnxmltools cannot convert it: {reason}") from None
    outputs = [o.name for o in onx.graph.output]
    if classifier:
        rename_outputs(onx, dict(zip(outputs, ["label", "probabilities"], strict=False)))
    else:
        rename_outputs(onx, {outputs[0]: "prediction"})
    names = tuple(booster.feature_name())
    if all(n == f"Column_{i}" for i, n in enumerate(names)):
        names = ()  # LightGBM's placeholders, not names the caller knows
    labels = None
    if classifier:
        classes = getattr(model, "classes_", None)
        count = booster.num_model_per_iteration()
        labels = tuple(str(c) for c in classes) if classes is not None else None
        if labels is None:
            labels = tuple(str(i) for i in range(max(2, count)))
    return Source(
        model=onx,
        task="classification" if classifier else "regression",
        reference=_reference(model, booster, classifier, labels),
        feature_names=names,
        class_labels=labels,
        info={
            "framework": f"lightgbm {lightgbm.__version__}",
            "estimator": f"{type(model).__name__} ({objective}, {booster.num_trees()} trees)",
            "converter": f"onnxmltools {onnxmltools.__version__}",
        },
    )


def _reference(model: Any, booster: Any, classifier: bool, labels: Any) -> Any:
    def predict(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = np.asarray(feeds["input"], dtype=np.float64)
        raw = np.asarray(booster.predict(rows), dtype=np.float64)
        if not classifier:
            return {"prediction": raw.reshape(-1, 1)}
        proba = np.column_stack([1.0 - raw, raw]) if raw.ndim == 1 else raw
        classes = getattr(model, "classes_", None)
        values = np.asarray(classes) if classes is not None else np.arange(proba.shape[1])
        return {"label": values[proba.argmax(axis=1)], "probabilities": proba}

    return predict
