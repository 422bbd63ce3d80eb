"""scikit-learn estimators and pipelines -> ONNX with skl2onnx (classifiers without ZipMap)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.sources.base import TARGET_OPSET, Source, feature_names, n_features


def is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "sklearn" and hasattr(obj, "predict")


def describe(estimator: Any) -> str:
    from sklearn.pipeline import Pipeline

    if isinstance(estimator, Pipeline):
        return "Pipeline(" + ", ".join(describe(s) for _, s in estimator.steps) + ")"
    return type(estimator).__name__


def final_step(estimator: Any) -> Any:
    from sklearn.pipeline import Pipeline

    return estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator


def convert(estimator: Any, what: str) -> Source:
    import skl2onnx
    import sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.base import is_classifier, is_regressor

    width = n_features(estimator, what)
    initial = [("input", FloatTensorType([None, width]))]
    classifier = is_classifier(estimator)
    if not classifier and not is_regressor(estimator):
        raise ModelKitError(
            f"{what}: {describe(estimator)} is neither a classifier nor a regressor"
        )
    options: dict[Any, Any] = {}
    final: list[Any] | None = None
    if classifier:
        options = {id(final_step(estimator)): {"zipmap": False}}
    else:
        final = [("prediction", FloatTensorType([None, 1]))]
    try:
        model = skl2onnx.convert_sklearn(
            estimator,
            initial_types=initial,
            final_types=final,
            options=options,
            target_opset=TARGET_OPSET,
        )
    except Exception as exc:  # skl2onnx raises many unrelated types
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelKitError(
            f"{what}: skl2onnx cannot convert {describe(estimator)}: {reason}"
        ) from None
    labels = None
    if classifier:
        labels = tuple(str(c) for c in final_step(estimator).classes_)
    return Source(
        model=model,
        task="classification" if classifier else "regression",
        reference=_reference(estimator, classifier),
        feature_names=feature_names(estimator),
        class_labels=labels,
        info={
            "framework": f"scikit-learn {sklearn.__version__}",
            "estimator": describe(estimator),
            "converter": f"skl2onnx {skl2onnx.__version__}",
        },
    )


def _reference(estimator: Any, classifier: bool) -> Any:
    def predict(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows = np.asarray(feeds["input"], dtype=np.float64)
        if getattr(estimator, "feature_names_in_", None) is not None:
            import pandas as pd

            rows = pd.DataFrame(rows, columns=list(estimator.feature_names_in_))
        result = {"label": np.asarray(estimator.predict(rows))} if classifier else {}
        if classifier and hasattr(estimator, "predict_proba"):
            result["probabilities"] = np.asarray(estimator.predict_proba(rows))
        if not classifier:
            result["prediction"] = np.asarray(estimator.predict(rows), dtype=np.float64).reshape(
                -1, 1
            )
        return result

    return predict
