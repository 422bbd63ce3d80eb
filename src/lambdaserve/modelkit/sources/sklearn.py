"""scikit-learn estimators and pipelines -> ONNX with skl2onnx (classifiers without ZipMap).

A pipeline that starts with a text vectorizer (CountVectorizer, TfidfVectorizer) takes one
string per row: its ONNX input is a BYTES tensor [-1, 1] named `input`, its one feature
`text`. The vectorizer's lowercasing becomes an ONNX StringNormalizer, which needs a
locale: C.UTF-8 is built into glibc (Lambda's Amazon Linux 2023 has no en_US locale, the
converter's default).
"""

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


TEXT_FEATURE = "text"
TEXT_LOCALE = "C.UTF-8"


def text_vectorizer(estimator: Any) -> Any | None:
    """The text vectorizer a model starts with, if it takes raw strings."""
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.pipeline import Pipeline

    first = estimator.steps[0][1] if isinstance(estimator, Pipeline) else estimator
    return first if isinstance(first, CountVectorizer) else None


def convert(estimator: Any, what: str) -> Source:
    import skl2onnx
    import sklearn
    from skl2onnx.common.data_types import FloatTensorType, StringTensorType
    from sklearn.base import is_classifier, is_regressor

    vectorizer = text_vectorizer(estimator)
    options: dict[Any, Any] = {}
    if vectorizer is not None:
        if getattr(vectorizer, "vocabulary_", None) is None:
            raise ModelKitError(f"{what} is not fitted (its text vectorizer has no vocabulary)")
        initial: list[Any] = [("input", StringTensorType([None, 1]))]
        options[id(vectorizer)] = {"locale": TEXT_LOCALE}
        names: tuple[str, ...] = (TEXT_FEATURE,)
    else:
        initial = [("input", FloatTensorType([None, n_features(estimator, what)]))]
        names = feature_names(estimator)
    classifier = is_classifier(estimator)
    if not classifier and not is_regressor(estimator):
        raise ModelKitError(
            f"{what}: {describe(estimator)} is neither a classifier nor a regressor"
        )
    final: list[Any] | None = None
    if classifier:
        options[id(final_step(estimator))] = {"zipmap": False}
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
        reference=_reference(estimator, classifier, text=vectorizer is not None),
        feature_names=names,
        class_labels=labels,
        info={
            "framework": f"scikit-learn {sklearn.__version__}",
            "estimator": describe(estimator),
            "converter": f"skl2onnx {skl2onnx.__version__}",
        },
    )


def _texts(column: np.ndarray) -> list[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in column.ravel().tolist()]


def _reference(estimator: Any, classifier: bool, *, text: bool = False) -> Any:
    def predict(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows: Any
        if text:
            rows = _texts(np.asarray(feeds["input"]))
        else:
            rows = np.asarray(feeds["input"], dtype=np.float64)
        if not text and getattr(estimator, "feature_names_in_", None) is not None:
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
