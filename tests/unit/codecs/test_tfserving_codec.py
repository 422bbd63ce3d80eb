"""TF Serving REST codec: row and columnar predict, classify/regress, status and metadata."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.codecs import tfserving
from lambdaserve.codecs.contract import Encoded
from lambdaserve.codecs.tfserving import TFRequest, split_verb
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
DIAB_ROW = [0.03, 0.05, 0.06, 0.02, -0.04, -0.03, -0.04, -0.0, 0.02, -0.02]
TWO_INPUTS = ModelManifest(
    name="two",
    version="3",
    directory=Path("/nowhere"),
    task="regression",
    inputs=(TensorSpec("a", "FP32", (-1, 2)), TensorSpec("b", "INT64", (-1,))),
    outputs=(TensorSpec("y", "FP32", (-1, 1)),),
)


def wire(value: Any) -> Any:
    """What a client reads: the encoded body, or a metadata document as the router sends it."""
    if isinstance(value, Encoded):
        assert value.media_type == "application/json" and not value.values
        return orjson.loads(value.body)
    return orjson.loads(orjson.dumps(value, option=orjson.OPT_SERIALIZE_NUMPY))


def decode(body: Any, verb: str, m: ModelManifest) -> TFRequest:
    return tfserving.decode(json.dumps(body).encode(), {tfserving.VERB: verb}, m)


def run(body: Any, verb: str = "predict", m: ModelManifest = IRIS) -> Any:
    decoded = decode(body, verb, m)
    response = PLANE.predict(m.name, decoded.inference, m.version)
    return wire(tfserving.encode(response, decoded, m))


def f32(value: Any) -> np.ndarray:
    return np.array(value, dtype=np.float32)


def direct(rows: list[list[float]], m: ModelManifest = IRIS) -> dict[str, np.ndarray]:
    return PLANE.model(m.name, m.version).predict({"input": np.array(rows, dtype=np.float32)})


# --- split_verb ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("iris:predict", ("iris", "predict")),
        ("breast_cancer:classify", ("breast_cancer", "classify")),
        ("my.model-v2_x:regress", ("my.model-v2_x", "regress")),
        ("2:predict", ("2", "predict")),
        ("a:b:predict", ("a:b", "predict")),
    ],
)
def test_split_verb(segment: str, expected: tuple[str, str]) -> None:
    assert split_verb(segment) == expected


@pytest.mark.parametrize("segment", ["iris", ":predict", "", "iris/predict"])
def test_split_verb_without_a_verb(segment: str) -> None:
    with pytest.raises(InvalidInput) as e:
        split_verb(segment)
    assert e.value.status == 400
    assert e.value.message == (f"expected <name>:predict, :classify or :regress, got {segment!r}")


@pytest.mark.parametrize("verb", ["infer", "Predict", "", "predict "])
def test_split_verb_unknown_verb(verb: str) -> None:
    with pytest.raises(InvalidInput) as e:
        split_verb(f"iris:{verb}")
    assert e.value.message == f"unsupported method {verb!r}; use one of predict, classify, regress"


# --- predict: decode -------------------------------------------------------------------------


def test_row_format_lists() -> None:
    decoded = decode({"instances": [SETOSA, VIRGINICA]}, "predict", IRIS)
    assert isinstance(decoded, TFRequest)
    assert (decoded.verb, decoded.columnar) == ("predict", False)
    assert list(decoded.inference.inputs) == ["input"]
    assert decoded.inference.inputs["input"].tolist() == fp32([SETOSA, VIRGINICA])


def test_row_format_named_instances() -> None:
    body = {"instances": [{"input": SETOSA}, {"input": VIRGINICA}]}
    decoded = decode(body, "predict", IRIS)
    assert decoded.inference.inputs["input"].tolist() == fp32([SETOSA, VIRGINICA])
    two = {"instances": [{"a": [1, 2], "b": 3}, {"b": 4, "a": [5, 6]}]}
    inputs = decode(two, "predict", TWO_INPUTS).inference.inputs
    assert inputs["a"].tolist() == [[1, 2], [5, 6]]
    assert inputs["b"].tolist() == [3, 4]


def test_columnar_list_and_dict() -> None:
    as_list = decode({"inputs": [SETOSA, VIRGINICA]}, "predict", IRIS)
    as_dict = decode({"inputs": {"input": [SETOSA, VIRGINICA]}}, "predict", IRIS)
    for decoded in (as_list, as_dict):
        assert decoded.columnar is True
        assert decoded.inference.inputs["input"].tolist() == fp32([SETOSA, VIRGINICA])
    two = decode({"inputs": {"a": [[1, 2]], "b": [3]}}, "predict", TWO_INPUTS)
    assert {k: v.tolist() for k, v in two.inference.inputs.items()} == {"a": [[1, 2]], "b": [3]}


@pytest.mark.parametrize("signature", ["serving_default", ""])
def test_signature_name_accepted(signature: str) -> None:
    body = {"signature_name": signature, "instances": [SETOSA]}
    assert decode(body, "predict", IRIS).inference.inputs["input"].shape == (1, 4)


@pytest.mark.parametrize("signature", ["predict", None, 3])
def test_unknown_signature_name_refused(signature: Any) -> None:
    body = {"signature_name": signature, "instances": [SETOSA]}
    with pytest.raises(InvalidInput) as e:
        decode(body, "predict", IRIS)
    assert e.value.message == (
        f"unknown signature_name {signature!r}; this model has 'serving_default'"
    )


@pytest.mark.parametrize(
    ("body", "m", "message"),
    [
        ([SETOSA], IRIS, "request body must be a JSON object"),
        ({}, IRIS, 'request must have exactly one of "instances" or "inputs"'),
        (
            {"instances": [SETOSA], "inputs": [SETOSA]},
            IRIS,
            'request must have exactly one of "instances" or "inputs"',
        ),
        ({"instances": []}, IRIS, '"instances" must be a non-empty list'),
        ({"instances": {"input": SETOSA}}, IRIS, '"instances" must be a non-empty list'),
        (
            {"instances": [{"input": SETOSA}, SETOSA]},
            IRIS,
            '"instances" mixes named and unnamed rows',
        ),
        (
            {"instances": [{"input": SETOSA, "extra": 1}]},
            IRIS,
            "instances[0] must have exactly the inputs ['input']",
        ),
        (
            {"instances": [{"a": [1, 2]}]},
            TWO_INPUTS,
            "instances[0] must have exactly the inputs ['a', 'b']",
        ),
        ({"instances": [[1, 2]]}, TWO_INPUTS, "model has inputs ['a', 'b']: send named instances"),
        ({"inputs": [[1, 2]]}, TWO_INPUTS, "model has inputs ['a', 'b']: send named inputs"),
        (
            {"inputs": {"input": SETOSA, "x": 1}},
            IRIS,
            "\"inputs\" must have exactly the inputs ['input']",
        ),
        ({"instances": [SETOSA, [1, 2]]}, IRIS, "instances: rows must all have the same length"),
        ({"instances": [[1, "2", 3, 4]]}, IRIS, "instances: values must be numbers (got strings)"),
        (
            {"instances": [[1, True, 3, 4]]},
            IRIS,
            "instances: values must be numbers (got booleans)",
        ),
        (
            {"inputs": [[1, None, 3, 4]]},
            IRIS,
            "inputs: values must be numbers (got nulls, objects or mixed types)",
        ),
        ({"inputs": {"input": [[float("nan")] * 4]}}, IRIS, "request body is not valid JSON"),
        (
            {"instances": [{"input": ["x"] * 4}]},
            IRIS,
            "instances.input: values must be numbers (got strings)",
        ),
    ],
)
def test_bad_predict_requests(body: Any, m: ModelManifest, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(body, "predict", m)
    assert e.value.status == 400
    assert e.value.message.startswith(message)


def test_wrong_width_is_refused_by_the_model() -> None:
    decoded = decode({"instances": [[1, 2, 3]]}, "predict", IRIS)
    with pytest.raises(
        InvalidInput, match=r"input 'input' has shape \[1, 3\], model expects \[-1, 4\]"
    ):
        PLANE.predict("iris", decoded.inference)


finite = st.floats(-1e6, 1e6, allow_nan=False)


@settings(max_examples=50, deadline=None)
@given(rows=st.lists(st.lists(finite, min_size=4, max_size=4), min_size=1, max_size=8))
def test_row_and_columnar_are_equivalent(rows: list[list[float]]) -> None:
    forms = [
        {"instances": rows},
        {"instances": [{"input": r} for r in rows]},
        {"inputs": rows},
        {"inputs": {"input": rows}},
    ]
    arrays = [decode(f, "predict", IRIS).inference.inputs["input"] for f in forms]
    for a in arrays:
        np.testing.assert_array_equal(a, np.array(rows, dtype=np.float32))
    row_out = run(forms[0])["predictions"]
    col_out = run(forms[2])["outputs"]
    assert [r["label"] for r in row_out] == col_out["label"]
    # Same float32 values (the JSON text may differ: float32 vs float64 shortest repr).
    np.testing.assert_array_equal(
        f32([r["probabilities"] for r in row_out]), f32(col_out["probabilities"])
    )


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.lists(finite, min_size=2, max_size=2), st.integers(-(2**40), 2**40)),
        min_size=1,
        max_size=6,
    )
)
def test_named_rows_equal_named_columns(rows: list[tuple[list[float], int]]) -> None:
    by_row = {"instances": [{"a": a, "b": b} for a, b in rows]}
    by_col = {"inputs": {"a": [a for a, _ in rows], "b": [b for _, b in rows]}}
    r = decode(by_row, "predict", TWO_INPUTS).inference.inputs
    c = decode(by_col, "predict", TWO_INPUTS).inference.inputs
    assert r.keys() == c.keys() == {"a", "b"}
    for k in r:
        np.testing.assert_array_equal(r[k], c[k])


# --- predict: encode (shapes exactly as TF Serving returns them) -----------------------------


def test_row_multi_output_is_a_list_of_objects_per_row() -> None:
    out = run({"instances": [SETOSA, VIRGINICA]})
    want = direct([SETOSA, VIRGINICA])
    assert out == {
        "predictions": [
            {"label": 0, "probabilities": want["probabilities"][0].tolist()},
            {"label": 2, "probabilities": want["probabilities"][1].tolist()},
        ]
    }


def test_row_single_output_is_a_plain_list() -> None:
    out = run({"instances": [DIAB_ROW, DIAB_ROW]}, m=DIABETES)
    value = direct([DIAB_ROW], DIABETES)["prediction"][0, 0]
    assert list(out) == ["predictions"]
    assert [len(row) for row in out["predictions"]] == [1, 1]  # shape [-1, 1] kept
    np.testing.assert_array_equal(f32(out["predictions"]), [[value], [value]])


def test_columnar_outputs() -> None:
    out = run({"inputs": [SETOSA, VIRGINICA]})
    want = direct([SETOSA, VIRGINICA])
    assert list(out) == ["outputs"]
    assert list(out["outputs"]) == ["label", "probabilities"]
    assert out["outputs"]["label"] == [0, 2]
    np.testing.assert_array_equal(f32(out["outputs"]["probabilities"]), want["probabilities"])
    single = run({"inputs": {"input": [DIAB_ROW]}}, m=DIABETES)
    assert list(single) == ["outputs"]
    assert isinstance(single["outputs"], list)  # one output: the bare tensor, no name
    np.testing.assert_array_equal(
        f32(single["outputs"]), direct([DIAB_ROW], DIABETES)["prediction"]
    )


# --- classify / regress ----------------------------------------------------------------------


def test_classify_examples_with_context() -> None:
    names = IRIS.feature_names
    body = {
        "signature_name": "serving_default",
        "context": {names[0]: 5.1, names[1]: 3.5},
        "examples": [
            {names[2]: 1.4, names[3]: 0.2},
            {names[0]: 6.7, names[1]: 3.0, names[2]: 5.2, names[3]: 2.3},  # overrides context
        ],
    }
    decoded = decode(body, "classify", IRIS)
    assert (decoded.verb, decoded.columnar) == ("classify", False)
    assert decoded.inference.inputs["input"].tolist() == fp32([SETOSA, VIRGINICA])
    out = run(body, "classify")
    want = direct([SETOSA, VIRGINICA])["probabilities"].tolist()
    assert out == {
        "results": [
            [["setosa", want[0][0]], ["versicolor", want[0][1]], ["virginica", want[0][2]]],
            [["setosa", want[1][0]], ["versicolor", want[1][1]], ["virginica", want[1][2]]],
        ]
    }


def test_regress_examples() -> None:
    names = DIABETES.feature_names
    body = {"examples": [dict(zip(names, DIAB_ROW, strict=True))] * 3}
    out = run(body, "regress", DIABETES)
    value = direct([DIAB_ROW], DIABETES)["prediction"][0, 0]
    assert list(out) == ["results"]
    assert all(isinstance(v, float) for v in out["results"])  # flat list of numbers
    np.testing.assert_array_equal(f32(out["results"]), [value] * 3)


def test_classify_without_class_labels_uses_indices() -> None:
    m = ModelManifest(
        name="m",
        version="1",
        directory=Path("/x"),
        task="classification",
        inputs=(TensorSpec("input", "FP32", (-1, 1)),),
        outputs=(),
    )
    request = TFRequest(InferenceRequest({}), "classify", columnar=False)
    response = InferenceResponse("m", "1", {"probabilities": np.array([[0.25, 0.75]])})
    assert wire(tfserving.encode(response, request, m)) == {"results": [[["0", 0.25], ["1", 0.75]]]}


def test_classify_refused_on_a_regressor_and_regress_on_a_classifier() -> None:
    examples = {"examples": [dict(zip(DIABETES.feature_names, DIAB_ROW, strict=True))]}
    with pytest.raises(InvalidInput) as e:
        decode(examples, "classify", DIABETES)
    assert e.value.message == "model 'diabetes' is not a classifier; use :predict"
    with pytest.raises(InvalidInput) as e:
        decode({"examples": [{}]}, "regress", IRIS)
    assert e.value.message == "model 'iris' is a classifier; use :classify"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, '"examples" must be a non-empty list of feature objects'),
        ({"examples": []}, '"examples" must be a non-empty list of feature objects'),
        ({"examples": {"a": 1}}, '"examples" must be a non-empty list of feature objects'),
        ({"examples": [SETOSA]}, "examples[0] must be an object of named features"),
        ({"examples": [{}], "context": [1]}, '"context" must be an object of features'),
        (
            {"examples": [{"sepal length (cm)": 1}]},
            "examples[0]: missing feature(s) 'sepal width (cm)', 'petal length (cm)', "
            "'petal width (cm)'",
        ),
        ({"examples": [{"colour": 1}]}, "examples[0]: unknown feature(s) 'colour'"),
        (
            {"examples": [{n: "1" for n in IRIS.feature_names}]},
            "examples: values must be numbers (got strings)",
        ),
        (
            {"examples": [{}], "signature_name": "x"},
            "unknown signature_name 'x'; this model has 'serving_default'",
        ),
    ],
)
def test_bad_classify_requests(body: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(body, "classify", IRIS)
    assert e.value.status == 400
    assert e.value.message == message


# --- status and metadata ---------------------------------------------------------------------


def test_version_status() -> None:
    assert tfserving.version_status(["1", "2"]) == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            },
            {
                "version": "2",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            },
        ]
    }


def test_metadata_shape() -> None:
    meta = wire(tfserving.metadata(IRIS))
    assert meta["model_spec"] == {"name": "iris", "signature_name": "", "version": "1"}
    signature = meta["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert signature["method_name"] == "tensorflow/serving/predict"
    assert signature["inputs"] == {
        "input": {
            "dtype": "DT_FLOAT",
            "tensor_shape": {
                "dim": [{"size": "-1", "name": ""}, {"size": "4", "name": ""}],
                "unknown_rank": False,
            },
            "name": "input:0",
        }
    }
    assert signature["outputs"]["label"]["dtype"] == "DT_INT64"
    assert signature["outputs"]["label"]["tensor_shape"]["dim"] == [{"size": "-1", "name": ""}]
    assert signature["outputs"]["probabilities"]["dtype"] == "DT_FLOAT"


@pytest.mark.parametrize(
    ("datatype", "tf"),
    [
        ("FP16", "DT_HALF"),
        ("FP64", "DT_DOUBLE"),
        ("BYTES", "DT_STRING"),
        ("UINT8", "DT_UINT8"),
        ("BOOL", "DT_BOOL"),
        ("INT32", "DT_INT32"),
        ("WEIRD", "DT_INVALID"),
    ],
)
def test_metadata_dtypes(datatype: str, tf: str) -> None:
    m = ModelManifest(
        name="m",
        version="7",
        directory=Path("/x"),
        task="regression",
        inputs=(TensorSpec("x", datatype, (2,)),),
        outputs=(),
    )
    signature = tfserving.metadata(m)["metadata"]["signature_def"]["signature_def"][
        "serving_default"
    ]
    assert signature["inputs"]["x"]["dtype"] == tf
    assert signature["outputs"] == {}


def test_regress_takes_the_first_column_of_a_multi_column_output() -> None:
    m = ModelManifest(
        name="m",
        version="1",
        directory=Path("/x"),
        task="regression",
        inputs=(TensorSpec("input", "FP32", (-1, 1)),),
        outputs=(TensorSpec("prediction", "FP32", (-1, 2)),),
    )
    request = TFRequest(InferenceRequest({}), "regress", columnar=False)
    values = np.array([[1.5, 9.0], [2.5, 9.0]], dtype=np.float32)
    response = InferenceResponse("m", "1", {"prediction": values})
    assert wire(tfserving.encode(response, request, m)) == {"results": [1.5, 2.5]}
