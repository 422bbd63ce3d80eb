"""Model outputs -> prediction columns: names, CSV text and JSON values, on real manifests."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from lambdaserve.batch.prediction_columns import PredictionColumns, output_name
from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelRepository, TensorSpec

PROBABILITIES = np.array([[0.9, 0.05, 0.05], [0.1, 0.2, 0.7], [0.0, 1.0, 0.0]], dtype=np.float32)


@pytest.fixture(scope="module")
def iris(repository: ModelRepository) -> PredictionColumns:
    return PredictionColumns.for_model(repository.manifest("iris", "1"))


@pytest.fixture(scope="module")
def diabetes(repository: ModelRepository) -> PredictionColumns:
    return PredictionColumns.for_model(repository.manifest("diabetes", "1"))


def test_a_classifier_adds_prediction_probability_and_label(iris: PredictionColumns) -> None:
    assert iris.names(()) == ("prediction", "probability", "label")
    outputs = {"label": np.array([0, 2, 1], dtype=np.int64), "probabilities": PROBABILITIES}
    columns = [c.to_list() for c in iris.csv_columns(outputs)]
    assert columns == [
        [b"0", b"2", b"1"],
        [b"0.9", b"0.7", b"1.0"],
        [b"setosa", b"virginica", b"versicolor"],
    ]
    assert iris.json_rows(outputs) == [
        (0, 0.9, "setosa"),
        (2, 0.7, "virginica"),
        (1, 1.0, "versicolor"),
    ]


def test_a_regressor_adds_one_prediction_at_float32_precision(diabetes: PredictionColumns) -> None:
    assert diabetes.names(()) == ("prediction",)
    outputs = {"prediction": np.array([[151.12345678], [-0.5]], dtype=np.float32)}
    [column] = diabetes.csv_columns(outputs)
    assert column.to_list() == [b"151.1235", b"-0.5"]
    assert diabetes.json_rows(outputs) == [(151.1235,), (-0.5,)]


def test_class_indexes_beyond_the_labels_fall_back_to_the_class_value() -> None:
    columns = PredictionColumns(classifier=True, class_labels=("only",))
    outputs = {"label": np.array(["a", "b,c"]), "probabilities": np.array([[0.4, 0.6]] * 2)}
    prediction, _, label = columns.csv_columns(outputs)
    assert prediction.to_list() == [b"a", b'"b,c"'] == label.to_list()
    assert [row[2] for row in columns.json_rows(outputs)] == ["a", "b,c"]


def test_names_taken_by_passthrough_columns_are_never_reused(iris: PredictionColumns) -> None:
    assert output_name("label", {"label", "predicted_label"}) == "predicted_predicted_label"
    assert iris.names(("id", "label")) == ("prediction", "probability", "predicted_label")


def test_models_batch_cannot_read_are_refused(repository: ModelRepository) -> None:
    manifest = repository.manifest("iris", "1")
    two_inputs = dataclasses.replace(manifest, inputs=manifest.inputs * 2)
    with pytest.raises(ModelLoadError, match="2 inputs"):
        PredictionColumns.for_model(two_inputs)
    no_probabilities = dataclasses.replace(manifest, outputs=(TensorSpec("label", "INT64", (-1,)),))
    with pytest.raises(ModelLoadError, match="needs 'label' and 'probabilities'"):
        PredictionColumns.for_model(no_probabilities)
