"""Datatypes: protocol names <-> numpy, and casting without silent loss."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lambdaserve.datatypes import (
    DATATYPE_BY_NUMPY,
    DATATYPE_BY_ORT,
    NUMPY_BY_DATATYPE,
    cast,
    datatype_of,
)
from lambdaserve.errors import InvalidInput

NUMERIC = [d for d in NUMPY_BY_DATATYPE if d not in ("BYTES", "BOOL")]
INTEGER = [d for d in NUMERIC if NUMPY_BY_DATATYPE[d].kind in "iu"]
FLOAT = ["FP16", "FP32", "FP64"]


def test_tables_are_consistent() -> None:
    assert set(NUMPY_BY_DATATYPE) == {
        "BOOL",
        "INT8",
        "INT16",
        "INT32",
        "INT64",
        "UINT8",
        "UINT16",
        "UINT32",
        "UINT64",
        "FP16",
        "FP32",
        "FP64",
        "BYTES",
    }
    assert {DATATYPE_BY_NUMPY[dt] for dt in NUMPY_BY_DATATYPE.values()} == set(NUMPY_BY_DATATYPE)
    assert set(DATATYPE_BY_ORT.values()) == set(NUMPY_BY_DATATYPE)
    assert DATATYPE_BY_ORT["tensor(float)"] == "FP32"
    assert DATATYPE_BY_ORT["tensor(double)"] == "FP64"
    assert DATATYPE_BY_ORT["tensor(string)"] == "BYTES"


@pytest.mark.parametrize("datatype", [d for d in NUMPY_BY_DATATYPE if d != "BYTES"])
def test_datatype_of_every_numeric_dtype(datatype: str) -> None:
    assert datatype_of(np.zeros(2, dtype=NUMPY_BY_DATATYPE[datatype])) == datatype


@pytest.mark.parametrize(
    "array",
    [np.array(["a", "b"]), np.array([b"a", b"b"]), np.array(["a", 1], dtype=object)],
)
def test_datatype_of_strings_bytes_and_objects_is_bytes(array: np.ndarray) -> None:
    assert datatype_of(array) == "BYTES"


def test_datatype_of_unsupported_dtype() -> None:
    with pytest.raises(TypeError, match="no protocol datatype for numpy dtype complex128"):
        datatype_of(np.zeros(1, dtype=np.complex128))


@pytest.mark.parametrize("datatype", [*NUMERIC, "BOOL"])
def test_same_dtype_is_returned_unchanged(datatype: str) -> None:
    array = np.ones((2, 3), dtype=NUMPY_BY_DATATYPE[datatype])
    out = cast(array, datatype, "x")
    assert out is array


@pytest.mark.parametrize("datatype", NUMERIC)
def test_small_integers_cast_to_every_numeric_datatype(datatype: str) -> None:
    out = cast(np.array([[0, 1, 2], [3, 4, 100]], dtype=np.int64), datatype, "x")
    assert out.dtype == NUMPY_BY_DATATYPE[datatype]
    assert out.tolist() == [[0, 1, 2], [3, 4, 100]]


@pytest.mark.parametrize("datatype", NUMERIC)
def test_integral_floats_cast_to_every_numeric_datatype(datatype: str) -> None:
    out = cast(np.array([0.0, 7.0, 42.0]), datatype, "x")
    assert out.dtype == NUMPY_BY_DATATYPE[datatype]
    assert out.tolist() == [0, 7, 42]


@pytest.mark.parametrize("datatype", INTEGER)
@pytest.mark.parametrize("value", [1.5, -0.25, np.nan, np.inf, -np.inf])
def test_non_integral_floats_refused_for_integers(datatype: str, value: float) -> None:
    with pytest.raises(InvalidInput, match=f"input 'x': {datatype} data must be integers") as e:
        cast(np.array([1.0, value]), datatype, "x")
    assert e.value.status == 400


@pytest.mark.parametrize(
    ("values", "datatype"),
    [
        ([300], "INT8"),
        ([-129], "INT8"),
        ([-1], "UINT8"),
        ([256], "UINT8"),
        ([40000], "INT16"),
        ([-1], "UINT16"),
        ([2**31], "INT32"),
        ([2**32], "UINT32"),
        ([-1], "UINT64"),
        ([-1], "UINT32"),
        ([300.0], "INT8"),
        ([-1.0], "UINT8"),
        ([1e6], "FP16"),
        ([-7e4], "FP16"),
        ([1e300], "FP32"),
        ([100000], "FP16"),
    ],
)
def test_out_of_range_refused(values: list[float], datatype: str) -> None:
    with pytest.raises(InvalidInput, match=f"input 'x': values out of range for {datatype}") as e:
        cast(np.array(values), datatype, "x")
    assert e.value.status == 400


@pytest.mark.parametrize(
    ("value", "datatype"),
    [(2.0**63, "INT64"), (-(2.0**64), "INT64"), (2.0**64, "UINT64"), (1e30, "INT64")],
)
def test_float_at_the_64_bit_limits_refused_not_wrapped(value: float, datatype: str) -> None:
    # float64 cannot represent 2**63 - 1, so the limit check must not compare as floats.
    with pytest.raises(InvalidInput, match=f"values out of range for {datatype}"):
        cast(np.array([value]), datatype, "x")


def test_largest_exact_floats_below_64_bit_limits_cast_exactly() -> None:
    below = np.nextafter(2.0**63, 0)
    assert cast(np.array([below, -(2.0**63)]), "INT64", "x").tolist() == [int(below), -(2**63)]
    below_u = np.nextafter(2.0**64, 0)
    assert cast(np.array([below_u]), "UINT64", "x").tolist() == [int(below_u)]


def test_uint64_extremes_from_integers() -> None:
    big = np.array([2**64 - 1], dtype=np.uint64)
    assert cast(big, "FP64", "x").tolist() == [float(2**64 - 1)]
    with pytest.raises(InvalidInput, match="values out of range for INT64"):
        cast(big, "INT64", "x")
    assert cast(np.array([2**63 - 1], dtype=np.int64), "UINT64", "x").tolist() == [2**63 - 1]


@pytest.mark.parametrize("datatype", FLOAT)
def test_bool_to_float_allowed(datatype: str) -> None:
    out = cast(np.array([True, False]), datatype, "x")
    assert out.dtype == NUMPY_BY_DATATYPE[datatype]
    assert out.tolist() == [1.0, 0.0]


@pytest.mark.parametrize("datatype", INTEGER)
def test_bool_to_integer_allowed(datatype: str) -> None:
    assert cast(np.array([True, False]), datatype, "x").tolist() == [1, 0]


def test_zero_and_one_to_bool_allowed() -> None:
    out = cast(np.array([0, 1, 1]), "BOOL", "flag")
    assert out.dtype == np.bool_
    assert out.tolist() == [False, True, True]


@pytest.mark.parametrize("values", [[2], [-1], [0.5], [np.nan]])
def test_other_numbers_to_bool_refused(values: list[float]) -> None:
    with pytest.raises(InvalidInput, match="input 'flag': BOOL data must be 0 or 1"):
        cast(np.array(values), "BOOL", "flag")


def test_nan_and_inf_pass_float_casts_unchanged() -> None:
    # Finiteness is the model's rule, not the cast's: cast only refuses *new* infinities.
    out = cast(np.array([np.nan, np.inf, 1.0]), "FP32", "x")
    assert out.dtype == np.float32
    assert np.isnan(out[0]) and np.isinf(out[1]) and out[2] == 1.0


@pytest.mark.parametrize("source", [np.array([1.0, 2.0]), np.array([1, 2]), np.array([True])])
def test_bytes_target_refused(source: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match=f"input 'x' expects BYTES, got {datatype_of(source)}"):
        cast(source, "BYTES", "x")


@pytest.mark.parametrize(
    ("source", "got"),
    [
        (np.array(["1.0", "2"]), "BYTES"),
        (np.array([b"1"]), "BYTES"),
        (np.array([1.0, None], dtype=object), "BYTES"),
    ],
)
def test_non_numeric_source_refused(source: np.ndarray, got: str) -> None:
    with pytest.raises(InvalidInput, match=f"input 'x' expects FP32, got {got}"):
        cast(source, "FP32", "x")


def test_complex_source_refused_as_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="input 'x' expects FP32"):
        cast(np.array([1 + 2j]), "FP32", "x")


@pytest.mark.parametrize("datatype", [*NUMERIC, "BOOL", "BYTES"])
def test_empty_arrays_cast_to_anything(datatype: str) -> None:
    out = cast(np.zeros((0, 4)), datatype, "x")
    assert out.shape == (0, 4)
    assert out.dtype == NUMPY_BY_DATATYPE[datatype]


@settings(max_examples=100, deadline=None)
@given(
    target=st.sampled_from(NUMERIC),
    source=st.sampled_from(NUMERIC),
    data=st.data(),
)
def test_cast_is_exact_or_refused(target: str, source: str, data: st.DataObject) -> None:
    """Any numeric array either casts to the same values or is refused with InvalidInput."""
    array = data.draw(
        hnp.arrays(
            NUMPY_BY_DATATYPE[source],
            hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
            elements={"allow_nan": False, "allow_infinity": False} if source in FLOAT else None,
        )
    )
    try:
        out = cast(array, target, "x")
    except InvalidInput as exc:
        assert exc.status == 400
        assert "input 'x'" in exc.message
        return
    assert out.dtype == NUMPY_BY_DATATYPE[target]
    assert out.shape == array.shape
    if target in FLOAT:
        # Float targets may round (tiny values underflow to 0), but never invent infinities
        # or flip a value's sign.
        assert np.isfinite(out).all()
        sign_out, sign_in = np.sign(out.astype(np.float64)), np.sign(array.astype(np.float64))
        assert ((sign_out == sign_in) | (sign_out == 0)).all()
        if source not in FLOAT and target == "FP64":
            np.testing.assert_allclose(out, array.astype(np.float64), rtol=1e-15)
    else:
        # Integer targets are exact: every value survives the round trip.
        assert [int(v) for v in out.ravel()] == [int(v) for v in array.ravel()]
