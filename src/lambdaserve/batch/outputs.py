"""Model outputs -> the columns a batch output adds: prediction (+ probability, label).

Classifiers give `prediction` (the model's class value), `probability` (of that class,
6 decimals) and `label` (the class name from model.json); regressors give `prediction`
(7 significant digits, float32's precision). A passthrough column that already uses one
of these names keeps it, and ours becomes `predicted_<name>`: nothing is overwritten.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambdaserve.batch.csv_reader import encode_names
from lambdaserve.batch.texts import Texts
from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelManifest

PROBABILITY_PLACES = 6
LINE = "line"


def output_name(name: str, taken: Collection[str]) -> str:
    while name in taken:
        name = f"predicted_{name}"
    return name


@dataclass(frozen=True)
class OutputColumns:
    classifier: bool
    class_labels: tuple[str, ...]

    @classmethod
    def for_model(cls, manifest: ModelManifest) -> OutputColumns:
        if len(manifest.inputs) != 1:
            raise ModelLoadError(
                f"model {manifest.name!r} has {len(manifest.inputs)} inputs; batch prediction "
                "reads one feature matrix per row"
            )
        names = {t.name for t in manifest.outputs}
        if manifest.is_classifier and {"label", "probabilities"} <= names:
            labels = manifest.class_labels or ()
            return cls(True, tuple(labels))
        if not manifest.is_classifier and "prediction" in names:
            return cls(False, ())
        raise ModelLoadError(
            f"model {manifest.name!r} version {manifest.version} has outputs {sorted(names)}; "
            "batch prediction needs 'label' and 'probabilities' (classifiers) or 'prediction'"
        )

    @property
    def base_names(self) -> tuple[str, ...]:
        return ("prediction", "probability", "label") if self.classifier else ("prediction",)

    def names(self, taken: Collection[str]) -> tuple[str, ...]:
        return tuple(output_name(n, taken) for n in self.base_names)

    def _class_index(self, outputs: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        probabilities = np.asarray(outputs["probabilities"])
        index = probabilities.argmax(axis=1)
        return index, probabilities[np.arange(index.shape[0]), index]

    def csv_columns(self, outputs: dict[str, np.ndarray]) -> list[Texts]:
        if not self.classifier:
            values = np.asarray(outputs["prediction"], dtype=np.float64).reshape(-1)
            return [Texts.from_list([b"%.7g" % v for v in values.tolist()])]
        index, probability = self._class_index(outputs)
        label = np.asarray(outputs["label"])
        if label.dtype.kind in "iu":
            prediction = Texts.integers(label)
        else:
            prediction = Texts.from_list(encode_names([str(v) for v in label.tolist()]))
        names = encode_names(self.class_labels) if self.class_labels else None
        if names is None or int(index.max(initial=0)) >= len(names):
            label_text = prediction
        else:
            label_text = Texts.table(names, index)
        return [prediction, Texts.decimals(probability, PROBABILITY_PLACES), label_text]

    def json_rows(self, outputs: dict[str, np.ndarray]) -> list[tuple[Any, ...]]:
        if not self.classifier:
            values = np.asarray(outputs["prediction"], dtype=np.float64).reshape(-1)
            return [(float(f"{v:.7g}"),) for v in values.tolist()]
        index, probability = self._class_index(outputs)
        label = np.asarray(outputs["label"]).tolist()
        rounded = np.round(probability.astype(np.float64), PROBABILITY_PLACES).tolist()
        if self.class_labels and int(index.max(initial=0)) < len(self.class_labels):
            names = [self.class_labels[i] for i in index.tolist()]
        else:
            names = [str(v) for v in label]
        return list(zip(label, rounded, names, strict=True))
