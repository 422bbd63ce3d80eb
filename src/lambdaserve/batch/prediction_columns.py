"""Model outputs -> the prediction columns every output row gets, in either format.

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

from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_header import encode_names
from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelManifest

PROBABILITY_PLACES = 6
# A model's outputs for one block, by output name.
Outputs = dict[str, np.ndarray]
LINE = "line"


def output_name(name: str, taken: Collection[str]) -> str:
    while name in taken:
        name = f"predicted_{name}"
    return name


@dataclass(frozen=True)
class PredictionColumns:
    classifier: bool
    class_labels: tuple[str, ...]

    @classmethod
    def for_model(cls, manifest: ModelManifest) -> PredictionColumns:
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

    def _class_index(self, outputs: Outputs) -> tuple[np.ndarray, np.ndarray]:
        probabilities = np.asarray(outputs["probabilities"])
        index = probabilities.argmax(axis=1)
        return index, probabilities[np.arange(index.shape[0]), index]

    def csv_columns(self, outputs: Outputs) -> list[ByteColumn]:
        """The columns as CSV text, all rows at once."""
        if not self.classifier:
            values = np.asarray(outputs["prediction"], dtype=np.float64).reshape(-1)
            return [ByteColumn.from_list([b"%.7g" % v for v in values.tolist()])]
        index, probability = self._class_index(outputs)
        label = np.asarray(outputs["label"])
        if label.dtype.kind in "iu":
            prediction = ByteColumn.integers(label)
        else:
            prediction = ByteColumn.from_list(encode_names([str(v) for v in label.tolist()]))
        names = encode_names(self.class_labels) if self.class_labels else None
        if names is None or int(index.max(initial=0)) >= len(names):
            label_text = prediction
        else:
            label_text = ByteColumn.table(names, index)
        return [prediction, ByteColumn.decimals(probability, PROBABILITY_PLACES), label_text]

    def json_rows(self, outputs: Outputs) -> list[tuple[Any, ...]]:
        """The columns' JSON values, one tuple per row."""
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
