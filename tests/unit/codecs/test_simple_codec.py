"""The seed-style protocol codec: features / named features / instances in, predictions out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.codecs import simple
from lambdaserve.codecs.contract import NO_VALUES
from lambdaserve.codecs.simple import SimpleRequest
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest, ModelRepository, TensorSpec
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY


def fp32(rows: Any) -> Any:
    """Rows as the iris model reads them: JSON numbers are decoded straight into its FP32."""
    return np.asarray(rows, dtype=np.float32).tolist()


PLANE = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY))
IRIS = PLANE.manifest("iris")
DIABETES = PLANE.manifest("diabetes")
SETOSA = [5.1, 3.5, 1.4, 0.2]
VIRGINICA = [6.7, 3.0, 5.2, 2.3]


def manifest(**changes: Any) -> ModelManifest:
    base: dict[str, Any] = {
        "name": "m",
        "version": "1",
        "directory": Path("/nowhere"),
        "task": "classification",
        "inputs": (TensorSpec("input", "FP32", (-1, 2)),),
        "outputs": (
            TensorSpec("label", "INT64", (-1,)),
            TensorSpec("probabilities", "FP32", (-1, 2)),
        ),
    }
    return ModelManifest(**{**base, **changes})


def decode(body: Any, m: ModelManifest = IRIS) -> tuple[np.ndarray, bool]:
    decoded = simple.decode(json.dumps(body).encode(), NO_VALUES, m)
    request = decoded.inference
    assert list(request.inputs) == [m.inputs[0].name]
    assert request.outputs is None and request.id is None
    return request.inputs[m.inputs[0].name], decoded.single


def encode(response: InferenceResponse, m: ModelManifest, single: bool) -> Any:
    decoded = SimpleRequest(InferenceRequest({}), single)
    encoded = simple.encode(response, decoded, m)
    assert encoded.media_type == "application/json" and not encoded.values
    return orjson.loads(encoded.body)


def predict(body: Any, m: ModelManifest = IRIS) -> dict[str, Any]:
    decoded = simple.decode(json.dumps(body).encode(), NO_VALUES, m)
    response = PLANE.predict(m.name, decoded.inference, m.version)
    wire: dict[str, Any] = orjson.loads(simple.encode(response, decoded, m).body)
    return wire


# --- decode ----------------------------------------------------------------------------------


def test_features_list_is_one_row() -> None:
    array, single = decode({"features": SETOSA})
    assert single is True
    assert array.shape == (1, 4)
    assert array.tolist() == fp32([SETOSA])


def test_named_features_in_any_order() -> None:
    named = dict(zip(IRIS.feature_names, SETOSA, strict=True))
    reversed_named = dict(reversed(list(named.items())))
    for body in ({"features": named}, {"features": reversed_named}):
        array, single = decode(body)
        assert single is True
        assert array.tolist() == fp32([SETOSA])


@settings(max_examples=50, deadline=None)
@given(
    order=st.permutations(range(4)), values=st.lists(st.floats(-1e6, 1e6), min_size=4, max_size=4)
)
def test_named_features_order_never_matters(order: list[int], values: list[float]) -> None:
    named = {IRIS.feature_names[i]: values[i] for i in order}
    array, _ = decode({"features": named})
    assert array.tolist() == fp32([values])
    array, _ = decode({"instances": [named, values]})
    assert array.tolist() == fp32([values, values])


def test_instances_lists_and_named_objects() -> None:
    named = dict(zip(IRIS.feature_names, VIRGINICA, strict=True))
    array, single = decode({"instances": [SETOSA, named, [1, 2, 3, 4]]})
    assert single is False
    assert array.tolist() == fp32([SETOSA, VIRGINICA, [1, 2, 3, 4]])


def test_single_instance_is_still_a_batch() -> None:
    array, single = decode({"instances": [SETOSA]})
    assert single is False and array.shape == (1, 4)


def test_unknown_feature_names_listed() -> None:
    named = dict(zip(IRIS.feature_names, SETOSA, strict=True))
    body = {"features": {**named, "colour": 1, "petal count": 5}}
    with pytest.raises(InvalidInput) as e:
        decode(body)
    assert e.value.status == 400
    assert e.value.message == "features: unknown feature(s) 'colour', 'petal count'"


def test_missing_feature_names_listed() -> None:
    body = {"features": {"sepal length (cm)": 5.1, "petal width (cm)": 0.2}}
    with pytest.raises(InvalidInput) as e:
        decode(body)
    assert e.value.message == (
        "features: missing feature(s) 'sepal width (cm)', 'petal length (cm)'"
    )


def test_named_instance_errors_say_which_row() -> None:
    named = dict(zip(IRIS.feature_names, SETOSA, strict=True))
    with pytest.raises(InvalidInput, match=r"^instances\[1\]: missing feature\(s\) 'sepal"):
        decode({"instances": [named, {"sepal length (cm)": 1}]})


def test_named_features_need_feature_names() -> None:
    with pytest.raises(InvalidInput, match="model 'm' has no feature names; send a list"):
        decode({"features": {"a": 1, "b": 2}}, manifest())


@pytest.mark.parametrize(
    "body", [{}, {"features": SETOSA, "instances": [SETOSA]}, {"rows": [SETOSA]}]
)
def test_exactly_one_of_features_or_instances(body: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(body)
    assert e.value.message == 'body must have exactly one of "features" or "instances"'


@pytest.mark.parametrize("body", [[SETOSA], "features", 4, None])
def test_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(InvalidInput, match='body must be a JSON object with "features"'):
        decode(body)


@pytest.mark.parametrize("features", [[], "1,2,3,4", 5.1, None])
def test_features_must_be_a_non_empty_list_or_object(features: Any) -> None:
    with pytest.raises(InvalidInput, match='"features" must be a non-empty list or an object'):
        decode({"features": features})


@pytest.mark.parametrize("instances", [[], {"a": 1}, "x", None, 3])
def test_instances_must_be_a_non_empty_list(instances: Any) -> None:
    with pytest.raises(InvalidInput, match='"instances" must be a non-empty list of rows'):
        decode({"instances": instances})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"features": [5.1, "3.5", 1.4, 0.2]}, "features: values must be numbers (got strings)"),
        ({"features": [5.1, True, 1.4, 0.2]}, "features: values must be numbers (got booleans)"),
        (
            {"features": [True, False, True, True]},
            "features: values must be numbers (got booleans)",
        ),
        (
            {"features": [5.1, None, 1.4, 0.2]},
            "features: values must be numbers (got nulls, objects or mixed types)",
        ),
        ({"instances": [SETOSA, [1, 2, 3]]}, "instances: rows must all have the same length"),
        (
            {"instances": [SETOSA, [1, 2, 3, False]]},
            "instances: values must be numbers (got booleans)",
        ),
        ({"features": [5.1, float("nan"), 1.4, 0.2]}, "request body is not valid JSON"),
    ],
)
def test_bad_values_refused(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(body)
    assert e.value.status == 400
    assert e.value.message.startswith(message)


@pytest.mark.parametrize(
    ("body", "shape"),
    [
        ({"features": [1, 2, 3]}, [1, 3]),
        ({"instances": [[1, 2, 3, 4, 5]]}, [1, 5]),
        ({"instances": SETOSA}, [4]),
        ({"features": [SETOSA]}, [1, 1, 4]),
        ({"instances": [[SETOSA]]}, [1, 1, 4]),
    ],
)
def test_widths_and_shapes_are_left_to_the_models_one_check(
    body: dict[str, Any], shape: list[int]
) -> None:
    array, _ = decode(body)
    assert list(array.shape) == shape
    with pytest.raises(InvalidInput) as e:
        predict(body)
    assert e.value.message == f"input 'input' has shape {shape}, model expects [-1, 4]"


def test_several_inputs_need_the_v2_protocol() -> None:
    two = manifest(inputs=(TensorSpec("a", "FP32", (-1, 1)), TensorSpec("b", "FP32", (-1, 1))))
    with pytest.raises(InvalidInput, match="model 'm' has several inputs; use the V2 protocol"):
        decode({"features": [1.0, 2.0]}, two)


def test_dynamic_width_accepts_any_width() -> None:
    array, _ = decode(
        {"instances": [[1, 2, 3], [4, 5, 6]]},
        manifest(inputs=(TensorSpec("input", "FP32", (-1, -1)),)),
    )
    assert array.shape == (2, 3)


@settings(max_examples=100, deadline=None)
@given(
    body=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5)),
        lambda c: st.one_of(
            st.lists(c, max_size=5),
            st.dictionaries(
                st.sampled_from(["features", "instances", *IRIS.feature_names, "x"]), c, max_size=5
            ),
        ),
        max_leaves=20,
    )
)
def test_junk_bodies_only_ever_raise_invalid_input(body: Any) -> None:
    """Through decode and the model: an answer for 4 numbers a row, else a 400."""
    try:
        array, _ = decode(body)
        assert array.dtype.kind in "iuf"
        out = predict(body)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.message
        return
    assert array.ndim == 2 and array.shape[1] == 4 and np.isfinite(array).all()
    assert out["model"] == "iris"


# --- encode ----------------------------------------------------------------------------------


def test_classifier_single_row() -> None:
    out = predict({"features": SETOSA})
    assert set(out) == {"model", "version", "prediction", "label", "probability", "probabilities"}
    assert (out["model"], out["version"]) == ("iris", "1")
    assert out["prediction"] == 0
    assert out["label"] == "setosa"
    assert list(out["probabilities"]) == ["setosa", "versicolor", "virginica"]
    assert out["probability"] == max(out["probabilities"].values())
    assert sum(out["probabilities"].values()) == pytest.approx(1.0, rel=1e-5)
    direct = PLANE.model("iris").predict({"input": np.array([SETOSA], dtype=np.float32)})
    assert list(out["probabilities"].values()) == direct["probabilities"][0].tolist()


def test_classifier_batch() -> None:
    out = predict({"instances": [SETOSA, VIRGINICA]})
    assert set(out) == {"model", "version", "predictions"}
    assert [p["label"] for p in out["predictions"]] == ["setosa", "virginica"]
    assert [p["prediction"] for p in out["predictions"]] == [0, 2]
    for p in out["predictions"]:
        assert p["probability"] == max(p["probabilities"].values())


def test_regressor_single_and_batch() -> None:
    row = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, -0.0, 0.02, -0.02]
    single = predict({"features": row}, DIABETES)
    assert set(single) == {"model", "version", "prediction"}
    assert single["model"] == "diabetes"
    direct = PLANE.model("diabetes").predict({"input": np.array([row], dtype=np.float32)})
    assert single["prediction"] == direct["prediction"][0, 0].item()
    batch = predict({"instances": [row, row]}, DIABETES)
    assert batch["predictions"] == [{"prediction": single["prediction"]}] * 2


def test_encode_classifier_without_class_labels_uses_indices() -> None:
    response = InferenceResponse(
        "m",
        "1",
        {"label": np.array([1, 0]), "probabilities": np.array([[0.25, 0.75], [0.5, 0.5]])},
    )
    out = encode(response, manifest(), single=False)
    assert out["predictions"] == [
        {
            "prediction": 1,
            "label": "1",
            "probability": 0.75,
            "probabilities": {"0": 0.25, "1": 0.75},
        },
        {"prediction": 0, "label": "0", "probability": 0.5, "probabilities": {"0": 0.5, "1": 0.5}},
    ]


def test_encode_vector_outputs_stay_lists() -> None:
    m = manifest(task="regression", outputs=(TensorSpec("y", "FP32", (-1, 2)),))
    response = InferenceResponse("m", "1", {"y": np.array([[1.0, 2.0], [3.0, 4.0]])})
    assert encode(response, m, single=True) == {
        "model": "m",
        "version": "1",
        "prediction": [1.0, 2.0],
    }
    flat = InferenceResponse("m", "1", {"y": np.array([7.0, 8.0])})
    assert encode(flat, m, single=False)["predictions"] == [
        {"prediction": 7.0},
        {"prediction": 8.0},
    ]


def test_label_name_follows_the_probability_column_not_the_class_value() -> None:
    """Class values need not be 0..k-1 (e.g. 7 and 9); names line up with the columns."""
    response = InferenceResponse(
        "m", "1", {"label": np.array([9]), "probabilities": np.array([[0.2, 0.8]])}
    )
    out = encode(response, manifest(class_labels=("cat", "dog")), single=True)
    assert out["prediction"] == 9
    assert out["label"] == "dog"
    assert out["probabilities"] == {"cat": 0.2, "dog": 0.8}


def test_class_labels_that_do_not_match_the_columns_fall_back_to_indices() -> None:
    response = InferenceResponse(
        "m", "1", {"label": np.array([1]), "probabilities": np.array([[0.25, 0.75]])}
    )
    out = encode(response, manifest(class_labels=("only-one",)), single=True)
    assert out["label"] == "1" and out["probabilities"] == {"0": 0.25, "1": 0.75}
