"""What every source converter hands on: the ONNX graph plus what the source knows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from lambdaserve.modelkit.errors import ModelKitError

# The source model's own answer for the same feeds, by ONNX output name.
Reference = Callable[[Mapping[str, np.ndarray]], dict[str, np.ndarray]]

TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}  # what scripts/train_models.py uses


@dataclass
class Source:
    model: onnx.ModelProto
    task: str  # "classification" | "regression" | "unknown"
    reference: Reference | None = None  # None: the ONNX file is its own reference
    feature_names: tuple[str, ...] = ()
    class_labels: tuple[str, ...] | None = None
    info: dict[str, Any] = field(default_factory=dict)  # model.json "source"
    description: str = ""


def n_features(estimator: Any, what: str) -> int:
    count = getattr(estimator, "n_features_in_", None)
    if not isinstance(count, int | np.integer) or count < 1:
        raise ModelKitError(f"{what} is not fitted (it does not know its number of features)")
    return int(count)


def feature_names(estimator: Any) -> tuple[str, ...]:
    names = getattr(estimator, "feature_names_in_", None)
    return tuple(str(n) for n in names) if names is not None else ()
