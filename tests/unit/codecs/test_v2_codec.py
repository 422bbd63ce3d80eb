"""Open Inference Protocol codec: JSON tensors, the binary extension, tritonclient's own wire."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
import pytest
import tritonclient.http as triton
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lambdaserve.codecs import v2
from lambdaserve.codecs.v2 import OutputRequest, V2Request
from lambdaserve.dataplane import DataPlane
from lambdaserve.datatypes import NUMPY_BY_DATATYPE
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

NUMERIC = [d for d in NUMPY_BY_DATATYPE if d != "BYTES"]
SETOSA = [5.1, 3.5, 1.4, 0.2]


def body(doc: dict[str, Any]) -> bytes:
    return orjson.dumps(doc)


def one(datatype: str, shape: list[int], data: Any, name: str = "x") -> bytes:
    return body({"inputs": [{"name": name, "datatype": datatype, "shape": shape, "data": data}]})


def decode(raw: bytes, header: int | str | None = None) -> V2Request:
    """What rest/v2.py passes: the JSON length from the extension's header, as sent."""
    values = {} if header is None else {v2.JSON_LENGTH: str(header)}
    return v2.decode(raw, values, None)


def encode(response: InferenceResponse, request: V2Request) -> tuple[bytes, int | None]:
    """The body, and the JSON length when any output is binary (then octet-stream)."""
    encoded = v2.encode(response, request)
    length = encoded.values.get(v2.JSON_LENGTH)
    binary = "application/octet-stream" if length is not None else "application/json"
    assert encoded.media_type == binary
    assert set(encoded.values) <= {v2.JSON_LENGTH}
    return encoded.body, None if length is None else int(length)


def decode_one(raw: bytes, header: int | None = None) -> np.ndarray:
    decoded = decode(raw, header)
    (array,) = decoded.inference.inputs.values()
    return array


def refused(raw: bytes, message: str, header: int | str | None = None) -> None:
    with pytest.raises(InvalidInput) as e:
        decode(raw, header)
    assert e.value.status == 400
    assert message in e.value.message, e.value.message


# --- JSON decode -----------------------------------------------------------------------------


def test_flat_and_nested_data() -> None:
    flat = decode_one(one("FP32", [2, 2], [1, 2, 3, 4]))
    nested = decode_one(one("FP32", [2, 2], [[1, 2], [3, 4]]))
    for array in (flat, nested):
        assert array.dtype == np.float32
        assert array.tolist() == [[1, 2], [3, 4]]


def test_full_request_fields() -> None:
    raw = body(
        {
            "id": "req-42",
            "parameters": {"binary_data_output": True, "custom": 1},
            "inputs": [
                {"name": "a", "datatype": "FP32", "shape": [1, 4], "data": SETOSA},
                {"name": "b", "datatype": "INT64", "shape": [1], "data": [7], "parameters": {}},
            ],
            "outputs": [
                {"name": "probabilities", "parameters": {"binary_data": True}},
                {"name": "label"},
            ],
        }
    )
    decoded = decode(raw, None)
    assert isinstance(decoded, V2Request)
    inference = decoded.inference
    assert inference.id == "req-42"
    assert inference.outputs == ("probabilities", "label")
    assert inference.parameters == {"binary_data_output": True, "custom": 1}
    assert decoded.binary_default is True
    assert decoded.requested == {
        "probabilities": OutputRequest(binary=True),
        "label": OutputRequest(binary=None),  # unsaid: binary_data_output decides
    }
    assert inference.inputs["a"].dtype == np.float32
    assert inference.inputs["b"].tolist() == [7]


def test_defaults_without_id_outputs_or_parameters() -> None:
    decoded = decode(one("FP32", [1, 4], SETOSA), None)
    assert decoded.inference.id is None
    assert decoded.inference.outputs is None
    assert decoded.requested == {}
    assert decoded.binary_default is False


def test_scalar_data_and_empty_shapes() -> None:
    assert decode_one(one("INT32", [], 5)).tolist() == 5
    assert decode_one(one("FP32", [1], 2.5)).tolist() == [2.5]
    empty = decode_one(one("FP32", [0, 4], []))
    assert empty.shape == (0, 4) and empty.dtype == np.float32


@pytest.mark.parametrize(
    ("datatype", "data", "expected"),
    [
        ("BOOL", [True, False], [True, False]),
        ("INT8", [-128, 127], [-128, 127]),
        ("INT16", [-32768, 32767], [-32768, 32767]),
        ("INT32", [-(2**31), 2**31 - 1], [-(2**31), 2**31 - 1]),
        ("INT64", [-(2**63), 2**63 - 1], [-(2**63), 2**63 - 1]),
        ("UINT8", [0, 255], [0, 255]),
        ("UINT16", [0, 65535], [0, 65535]),
        ("UINT32", [0, 2**32 - 1], [0, 2**32 - 1]),
        ("UINT64", [0, 2**64 - 1], [0, 2**64 - 1]),
        ("FP16", [1.5, -2], [1.5, -2.0]),
        ("FP32", [1.5, 3], [1.5, 3.0]),
        ("FP64", [0.1, -1e300], [0.1, -1e300]),
        ("BYTES", ["abc", ""], ["abc", ""]),
    ],
)
def test_every_datatype_decodes_from_json(datatype: str, data: list[Any], expected: Any) -> None:
    assert set(NUMPY_BY_DATATYPE) >= {datatype}
    array = decode_one(one(datatype, [2], data))
    assert array.dtype == NUMPY_BY_DATATYPE[datatype]
    assert array.tolist() == expected


@pytest.mark.parametrize(
    ("datatype", "data", "message"),
    [
        ("BOOL", [1, 0], "input 'x': data does not match datatype BOOL"),
        ("BOOL", ["true", "false"], "input 'x': data does not match datatype BOOL"),
        ("INT32", [1.5, 2.0], "input 'x': INT32 data must be integers"),
        ("INT32", [True, 2], "input 'x': booleans in INT32 data"),
        ("FP32", [1.5, False], "input 'x': booleans in FP32 data"),
        ("FP32", ["1.5", "2"], "input 'x': data does not match datatype FP32"),
        ("FP32", [1.5, None], "input 'x': data does not match datatype FP32"),
        ("UINT8", [True, True], "input 'x': data does not match datatype UINT8"),
        ("BYTES", [1, 2], "input 'x': BYTES data must be strings"),
        ("BYTES", ["a", None], "input 'x': BYTES data must be strings"),
        ("INT8", [300, 1], "input 'x': values out of range for INT8"),
        ("UINT8", [-1, 1], "input 'x': values out of range for UINT8"),
        ("FP16", [1e6, 1], "input 'x': values out of range for FP16"),
        ("UINT64", [-1, 2**64 - 1], "input 'x': values out of range for UINT64"),
    ],
)
def test_data_must_match_its_datatype(datatype: str, data: list[Any], message: str) -> None:
    refused(one(datatype, [2], data), message)


def test_integral_floats_are_accepted_as_integers() -> None:
    array = decode(one("INT32", [2], [1.0, -2.0]), None).inference.inputs["x"]
    assert array.dtype == np.int32 and array.tolist() == [1, -2]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"binary_data_output": "false"}, 'parameter "binary_data_output" must be true or false'),
        ({"binary_data_output": 1}, 'parameter "binary_data_output" must be true or false'),
    ],
)
def test_binary_flags_must_be_booleans(params: dict[str, Any], message: str) -> None:
    raw = orjson.dumps(
        {
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            "parameters": params,
        }
    )
    refused(raw, message)


def test_boolean_binary_data_size_is_refused() -> None:
    raw = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "x",
                    "datatype": "UINT8",
                    "shape": [1],
                    "parameters": {"binary_data_size": True},
                }
            ]
        }
    )
    refused(raw + b"\x01", "input 'x': binary_data_size exceeds the binary data", header=len(raw))


@pytest.mark.parametrize(
    ("shape", "data", "message"),
    [
        ([2, 2], [1, 2, 3], "input 'x': shape [2, 2] needs 4 values, data has 3"),
        ([3], [1, 2, 3, 4], "input 'x': shape [3] needs 3 values, data has 4"),
        ([0, 4], [1], "input 'x': shape [0, 4] needs 0 values, data has 1"),
        ([1, 4], [], "input 'x': shape [1, 4] needs 4 values, data has 0"),
        ([2, 2], [[1, 2, 3, 4]], "input 'x': nested data has shape [1, 4], declared [2, 2]"),
        ([4, 1], [[1, 2], [3, 4]], "input 'x': nested data has shape [2, 2], declared [4, 1]"),
        ([2, 2], [[1, 2], [3]], "input 'x': nested data is ragged"),
        ([2, 2], [[1, 2], 3, 4], "input 'x': nested data is ragged"),
    ],
)
def test_shape_and_element_count_mismatch(shape: list[int], data: Any, message: str) -> None:
    refused(one("FP32", shape, data), message)


@pytest.mark.parametrize("datatype", ["FP8", "fp32", "BF16", "STRING", None, 1])
def test_unknown_datatype(datatype: Any) -> None:
    refused(
        one(datatype, [1], [1]),
        f"input 'x': unknown datatype {datatype!r}; expected one of BOOL, INT8",
    )


@pytest.mark.parametrize(
    "shape", [[-1, 4], [True, 4], [1.0, 4], ["1", 4], [None], "1,4", 4, None, {"0": 1}]
)
def test_bad_shape_entries(shape: Any) -> None:
    refused(
        one("FP32", shape, SETOSA), "input 'x': \"shape\" must be a list of non-negative integers"
    )


@pytest.mark.parametrize("shape", [[2**62, 4, 0], [2**63 - 1, 0], [0, 2**40, 2**40]])
def test_absurd_shapes_without_data_refused(shape: list[int]) -> None:
    refused(one("FP32", shape, []), "input 'x': shape")


def test_duplicate_input_names() -> None:
    tensor = {"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}
    refused(body({"inputs": [tensor, tensor]}), "input 'x' given twice")


@pytest.mark.parametrize("request_id", [42, 1.5, True, ["a"], {"a": 1}])
def test_non_string_id_refused(request_id: Any) -> None:
    raw = body(
        {"id": request_id, "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]}
    )
    refused(raw, '"id" must be a string')


def test_string_id_is_kept_even_when_empty() -> None:
    raw = body({"id": "", "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}]})
    assert decode(raw, None).inference.id == ""


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "request body must be a JSON object"),
        ({}, '"inputs" must be a non-empty list of tensors'),
        ({"inputs": []}, '"inputs" must be a non-empty list of tensors'),
        ({"inputs": {"x": [1]}}, '"inputs" must be a non-empty list of tensors'),
        ({"inputs": [5]}, "inputs[0] must be an object"),
        ({"inputs": [{"datatype": "FP32", "shape": [1], "data": [1]}]}, 'inputs[0] needs a "name"'),
        (
            {"inputs": [{"name": "", "datatype": "FP32", "shape": [1], "data": [1]}]},
            'inputs[0] needs a "name"',
        ),
        ({"inputs": [{"name": "x", "datatype": "FP32", "shape": [1]}]}, "input 'x' needs \"data\""),
        (
            {
                "inputs": [
                    {"name": "x", "datatype": "FP32", "shape": [1], "data": [1], "parameters": [1]}
                ]
            },
            "input 'x' \"parameters\" must be an object",
        ),
        (
            {
                "parameters": "yes",
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            },
            'request "parameters" must be an object',
        ),
        (
            {
                "outputs": {"name": "y"},
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            },
            '"outputs" must be a list',
        ),
        (
            {
                "outputs": [{"name": 3}],
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            },
            'outputs[0] must be an object with a "name"',
        ),
        (
            {
                "outputs": ["y"],
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            },
            'outputs[0] must be an object with a "name"',
        ),
        (
            {
                "outputs": [{"name": "y", "parameters": 1}],
                "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            },
            'outputs[0] "parameters" must be an object',
        ),
    ],
)
def test_malformed_documents(doc: Any, message: str) -> None:
    refused(body(doc), message)


@pytest.mark.parametrize("raw", [b"", b"{", b"not json", b"\xff\xfe", b'{"inputs": [}'])
def test_invalid_json(raw: bytes) -> None:
    refused(raw, "request body is not valid JSON")


def test_classification_extension_refused() -> None:
    tensor = {"name": "x", "datatype": "FP32", "shape": [1, 4], "data": SETOSA}
    refused(
        body({"inputs": [tensor], "parameters": {"classification": 2}}),
        "the classification extension is not supported",
    )
    refused(
        body(
            {
                "inputs": [tensor],
                "outputs": [{"name": "label", "parameters": {"classification": 1}}],
            }
        ),
        "the classification extension is not supported",
    )


# --- binary extension, built by tritonclient itself ------------------------------------------


def triton_body(
    arrays: dict[str, tuple[np.ndarray, str]],
    binary: bool = True,
    outputs: list[triton.InferRequestedOutput] | None = None,
    request_id: str = "",
) -> tuple[bytes, int | None]:
    inputs = []
    for name, (array, datatype) in arrays.items():
        tensor = triton.InferInput(name, list(array.shape), datatype)
        tensor.set_data_from_numpy(array, binary_data=binary)
        inputs.append(tensor)
    raw, json_size = triton.InferenceServerClient.generate_request_body(
        inputs, outputs=outputs, request_id=request_id
    )
    return raw, json_size


def numeric_arrays(datatype: str) -> st.SearchStrategy[np.ndarray]:
    dtype = NUMPY_BY_DATATYPE[datatype]
    elements = {"allow_nan": False, "allow_infinity": False} if dtype.kind == "f" else None
    return hnp.arrays(
        dtype, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), elements=elements
    )


@settings(max_examples=100, deadline=None)
@given(datatype=st.sampled_from(NUMERIC), data=st.data())
def test_tritonclient_binary_round_trip_every_numeric_datatype(
    datatype: str, data: st.DataObject
) -> None:
    array = data.draw(numeric_arrays(datatype))
    raw, json_size = triton_body({"t": (array, datatype)})
    assert json_size is not None and json_size < len(raw)
    got = decode_one(raw, json_size)
    assert got.dtype == array.dtype
    assert got.shape == array.shape
    np.testing.assert_array_equal(got, array)


@settings(max_examples=100, deadline=None)
@given(datatype=st.sampled_from(NUMERIC), data=st.data())
def test_json_and_binary_decode_to_the_same_tensor(datatype: str, data: st.DataObject) -> None:
    array = data.draw(numeric_arrays(datatype))
    as_json, none = triton_body({"t": (array, datatype)}, binary=False)
    as_binary, json_size = triton_body({"t": (array, datatype)}, binary=True)
    assert none is None
    from_json = decode_one(as_json)
    from_binary = decode_one(as_binary, json_size)
    assert from_json.dtype == from_binary.dtype == array.dtype
    np.testing.assert_array_equal(from_json, from_binary)
    np.testing.assert_array_equal(from_json, array)


@settings(max_examples=50, deadline=None)
@given(
    items=st.lists(st.binary(max_size=12), min_size=1, max_size=6),
    binary=st.booleans(),
)
def test_tritonclient_bytes_tensors(items: list[bytes], binary: bool) -> None:
    array = np.array(items, dtype=object)
    if not binary:
        # JSON carries BYTES as strings: use valid UTF-8.
        items = [i.decode("latin-1").encode() for i in items]
        array = np.array([i.decode() for i in items], dtype=object)
    raw, json_size = triton_body({"s": (array, "BYTES")}, binary=binary)
    got = decode_one(raw, json_size)
    assert got.dtype == object and got.shape == (len(items),)
    if binary:
        assert got.tolist() == items
    else:
        assert got.tolist() == [i.decode() for i in items]


def test_several_binary_inputs_with_requested_outputs_and_id() -> None:
    x = np.arange(8, dtype=np.float32).reshape(2, 4)
    n = np.array([[1, 2, 3]], dtype=np.uint16)
    s = np.array([b"a", b"bc"], dtype=object)
    outputs = [
        triton.InferRequestedOutput("probabilities", binary_data=True),
        triton.InferRequestedOutput("label", binary_data=False),
    ]
    raw, json_size = triton_body(
        {"x": (x, "FP32"), "n": (n, "UINT16"), "s": (s, "BYTES")}, outputs=outputs, request_id="r1"
    )
    decoded = decode(raw, json_size)
    inputs = decoded.inference.inputs
    np.testing.assert_array_equal(inputs["x"], x)
    np.testing.assert_array_equal(inputs["n"], n)
    assert inputs["s"].tolist() == [b"a", b"bc"]
    assert decoded.inference.id == "r1"
    assert decoded.inference.outputs == ("probabilities", "label")
    assert decoded.requested == {
        "probabilities": OutputRequest(True),
        "label": OutputRequest(False),
    }


def test_mixed_json_and_binary_inputs() -> None:
    x = np.ones((1, 4), dtype=np.float32)
    head = body(
        {
            "inputs": [
                {"name": "a", "datatype": "INT32", "shape": [2], "data": [1, 2]},
                {
                    "name": "x",
                    "datatype": "FP32",
                    "shape": [1, 4],
                    "parameters": {"binary_data_size": 16},
                },
            ]
        }
    )
    decoded = decode(head + x.tobytes(), len(head))
    assert decoded.inference.inputs["a"].tolist() == [1, 2]
    np.testing.assert_array_equal(decoded.inference.inputs["x"], x)


def binary_one(datatype: str, shape: list[int], size: Any, payload: bytes) -> tuple[bytes, int]:
    head = body(
        {
            "inputs": [
                {
                    "name": "x",
                    "datatype": datatype,
                    "shape": shape,
                    "parameters": {"binary_data_size": size},
                }
            ]
        }
    )
    return head + payload, len(head)


@pytest.mark.parametrize(
    ("datatype", "shape", "size", "payload", "message"),
    [
        ("FP32", [1, 4], 16, b"\0" * 12, "input 'x': binary_data_size exceeds the binary data"),
        ("FP32", [1, 4], 12, b"\0" * 12, "input 'x': shape needs 16 bytes, got 12"),
        ("FP32", [1, 4], 20, b"\0" * 20, "input 'x': shape needs 16 bytes, got 20"),
        (
            "FP32",
            [1, 4],
            8,
            b"\0" * 16,
            "input 'x': shape needs 16 bytes, got 8",
        ),
        ("FP32", [1, 4], 1000, b"\0" * 16, "input 'x': binary_data_size exceeds the binary data"),
        ("FP32", [1, 4], -4, b"\0" * 16, "input 'x': binary_data_size exceeds the binary data"),
        ("FP32", [1, 4], "16", b"\0" * 16, "input 'x': binary_data_size exceeds the binary data"),
        ("BYTES", [1], 3, b"\x05\0\0", "input 'x': truncated BYTES element"),
        ("BYTES", [1], 6, b"\x05\0\0\0ab", "input 'x': truncated BYTES element"),
        ("BYTES", [2], 6, b"\x02\0\0\0ab", "input 'x': shape needs 2 elements, got 1"),
        ("INT64", [0], 0, b"\0", "binary data length does not match the inputs' binary_data_size"),
    ],
)
def test_bad_binary_data(
    datatype: str, shape: list[int], size: Any, payload: bytes, message: str
) -> None:
    raw, header = binary_one(datatype, shape, size, payload)
    refused(raw, message, header)


def test_leftover_bytes_refused() -> None:
    x = np.ones((1, 4), dtype=np.float32)
    raw, json_size = triton_body({"x": (x, "FP32")})
    refused(
        raw + b"\0", "binary data length does not match the inputs' binary_data_size", json_size
    )


def test_binary_without_header_length_is_not_json() -> None:
    raw, _ = triton_body({"x": (np.ones((1, 4), dtype=np.float32), "FP32")})
    refused(raw, "request body is not valid JSON")


def test_header_length_out_of_range() -> None:
    raw, _ = triton_body({"x": (np.ones((1, 4), dtype=np.float32), "FP32")})
    refused(raw, "the binary request's JSON length exceeds the body length", 10**6)


@pytest.mark.parametrize("header", ["-1", "", "12a", "1.5", " "])
def test_header_length_must_be_a_non_negative_integer(header: str) -> None:
    raw, _ = triton_body({"x": (np.ones((1, 4), dtype=np.float32), "FP32")})
    refused(raw, f"JSON length must be a non-negative integer, got {header!r}", header)


def test_data_and_binary_data_size_together_refused() -> None:
    head = body(
        {
            "inputs": [
                {
                    "name": "x",
                    "datatype": "FP32",
                    "shape": [1],
                    "data": [1],
                    "parameters": {"binary_data_size": 4},
                }
            ]
        }
    )
    refused(head + b"\0" * 4, "input 'x' has both data and binary_data_size", len(head))


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=64), header=st.one_of(st.none(), st.integers(-2, 80)))
def test_random_bytes_only_ever_raise_invalid_input(raw: bytes, header: int | None) -> None:
    try:
        decode(raw, header)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.message
    else:  # a random blob that is a valid request is fine, but it must be one
        assert orjson.loads(raw[:header] if header is not None else raw)["inputs"]


json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=4)
    ),
    lambda c: st.one_of(
        st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None)
@given(
    name=st.one_of(st.just("x"), json_values),
    datatype=st.one_of(st.sampled_from(list(NUMPY_BY_DATATYPE)), json_values),
    shape=st.one_of(st.lists(st.integers(-1, 2**63 - 1), max_size=3), json_values),
    data=json_values,
    extra=st.dictionaries(
        st.sampled_from(["id", "outputs", "parameters"]), json_values, max_size=2
    ),
)
def test_junk_tensors_only_ever_raise_invalid_input(
    name: Any, datatype: Any, shape: Any, data: Any, extra: dict[str, Any]
) -> None:
    doc = {"inputs": [{"name": name, "datatype": datatype, "shape": shape, "data": data}], **extra}
    try:
        raw = orjson.dumps(doc)
    except orjson.JSONEncodeError:
        return  # integers beyond 64 bits cannot even be sent
    try:
        decoded = decode(raw, None)
    except InvalidInput as exc:
        assert exc.status == 400 and exc.message
        return
    (array,) = decoded.inference.inputs.values()
    assert list(array.shape) == shape
    assert array.dtype == NUMPY_BY_DATATYPE[datatype]


# --- encode ----------------------------------------------------------------------------------


def response_of(
    arrays: dict[str, np.ndarray], request_id: str | None = "id-1"
) -> InferenceResponse:
    return InferenceResponse("m", "3", arrays, request_id)


def v2_request(requested: dict[str, bool] | None = None, binary_default: bool = False) -> V2Request:
    req = {k: OutputRequest(v) for k, v in (requested or {}).items()}
    return V2Request(InferenceRequest({}, outputs=tuple(req) or None), req, binary_default)


def test_encode_json_outputs() -> None:
    arrays = {
        "label": np.array([0, 2], dtype=np.int64),
        "probabilities": np.array([[0.5, 0.25], [0.125, 1.0]], dtype=np.float32),
        "flags": np.array([True, False]),
        "names": np.array(["a", "é"], dtype=object),
    }
    raw, header = encode(response_of(arrays), v2_request())
    assert header is None
    assert orjson.loads(raw) == {
        "model_name": "m",
        "model_version": "3",
        "id": "id-1",
        "outputs": [
            {"name": "label", "datatype": "INT64", "shape": [2], "data": [0, 2]},
            {
                "name": "probabilities",
                "datatype": "FP32",
                "shape": [2, 2],
                "data": [0.5, 0.25, 0.125, 1.0],
            },
            {"name": "flags", "datatype": "BOOL", "shape": [2], "data": [True, False]},
            {"name": "names", "datatype": "BYTES", "shape": [2], "data": ["a", "é"]},
        ],
    }
    result = triton.InferResult.from_response_body(raw)
    assert result.get_response()["id"] == "id-1"
    np.testing.assert_array_equal(result.as_numpy("probabilities"), arrays["probabilities"])
    np.testing.assert_array_equal(result.as_numpy("label"), arrays["label"])


def test_encode_without_id_has_no_id_field() -> None:
    raw, _ = encode(response_of({"y": np.zeros(1, np.float32)}, None), v2_request())
    assert "id" not in orjson.loads(raw)


@settings(max_examples=100, deadline=None)
@given(
    outputs=st.dictionaries(
        st.text("abcxyz_", min_size=1, max_size=6),
        st.sampled_from(NUMERIC).flatmap(numeric_arrays),
        min_size=1,
        max_size=4,
    ),
    binary_default=st.booleans(),
    flags=st.lists(st.one_of(st.none(), st.booleans()), min_size=4, max_size=4),
)
def test_encode_round_trips_through_tritonclient(
    outputs: dict[str, np.ndarray], binary_default: bool, flags: list[bool | None]
) -> None:
    requested = {n: f for n, f in zip(outputs, flags, strict=False) if f is not None}
    raw, header = encode(response_of(outputs), v2_request(requested, binary_default))
    binary_wanted = [requested.get(n, binary_default) for n in outputs]
    assert (header is not None) == any(binary_wanted)
    result = triton.InferResult.from_response_body(raw, header_length=header)
    doc = result.get_response()
    assert [o["name"] for o in doc["outputs"]] == list(outputs)
    for tensor, wanted in zip(doc["outputs"], binary_wanted, strict=True):
        assert ("data" in tensor) != wanted
        assert ("binary_data_size" in tensor.get("parameters", {})) == wanted
    for name, array in outputs.items():
        got = result.as_numpy(name)
        assert got.shape == array.shape
        if array.dtype.kind == "f":
            np.testing.assert_array_equal(got.astype(array.dtype), array)
        else:
            np.testing.assert_array_equal(got, array)


def test_encode_bytes_outputs_in_binary() -> None:
    arrays = {"s": np.array([[b"ab", b""], [b"\xff", b"xyz"]], dtype=object), "u": np.array(["é"])}
    raw, header = encode(response_of(arrays), v2_request(binary_default=True))
    assert header is not None
    result = triton.InferResult.from_response_body(raw, header_length=header)
    assert result.as_numpy("s").tolist() == [[b"ab", b""], [b"\xff", b"xyz"]]
    assert result.as_numpy("u").tolist() == ["é".encode()]
    head = orjson.loads(raw[:header])
    assert head["outputs"][0]["parameters"] == {"binary_data_size": 4 * 4 + 2 + 0 + 1 + 3}


def test_v2_infer_on_a_real_model_through_tritonclient_wire() -> None:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["iris"])
    x = np.array([SETOSA, [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    outputs = [triton.InferRequestedOutput("label", binary_data=True)]
    raw, json_size = triton_body({"input": (x, "FP32")}, outputs=outputs, request_id="abc")
    decoded = decode(raw, json_size)
    response = plane.predict("iris", decoded.inference)
    content, header = encode(response, decoded)
    result = triton.InferResult.from_response_body(content, header_length=header)
    assert result.get_response()["model_name"] == "iris"
    assert result.get_response()["id"] == "abc"
    assert [o["name"] for o in result.get_response()["outputs"]] == ["label"]
    assert result.as_numpy("label").tolist() == [0, 2]


def test_model_metadata() -> None:
    manifest = ModelRepository(SOURCE_MODEL_REPOSITORY).manifest("iris", "1")
    assert v2.model_metadata(manifest, ["1"]) == {
        "name": "iris",
        "versions": ["1"],
        "platform": "onnxruntime_onnx",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [
            {"name": "label", "datatype": "INT64", "shape": [-1]},
            {"name": "probabilities", "datatype": "FP32", "shape": [-1, 3]},
        ],
    }


def test_request_level_binary_default_applies_to_outputs_that_do_not_say() -> None:
    raw = orjson.dumps(
        {
            "inputs": [{"name": "x", "datatype": "FP32", "shape": [1], "data": [1]}],
            "parameters": {"binary_data_output": True},
            "outputs": [{"name": "label"}, {"name": "p", "parameters": {"binary_data": False}}],
        }
    )
    request = decode(raw, None)
    arrays = {"label": np.array([1], np.int64), "p": np.array([0.5], np.float32)}
    body, header = encode(response_of(arrays), request)
    assert header is not None
    result = triton.InferResult.from_response_body(body, header_length=header)
    outputs = {o["name"]: o for o in result.get_response()["outputs"]}
    assert outputs["label"]["parameters"] == {"binary_data_size": 8}
    assert outputs["p"]["data"] == [0.5]
    np.testing.assert_array_equal(result.as_numpy("label"), [1])
