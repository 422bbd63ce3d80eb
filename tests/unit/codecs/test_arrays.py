"""numeric_array: JSON lists to numpy strictly; numbers stay numbers, nothing is guessed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.codecs.arrays import numeric_array
from lambdaserve.errors import InvalidInput


@pytest.mark.parametrize(
    ("value", "dtype_kind", "shape"),
    [
        ([[1.5, 2, 3]], "f", (1, 3)),
        ([[1, 2], [3, 4]], "i", (2, 2)),
        ([1, 2, 3], "i", (3,)),
        (7, "i", ()),
        (2.5, "f", ()),
        ([[[1.0], [2.0]]], "f", (1, 2, 1)),
        ([], "f", (0,)),
        ([[]], "f", (1, 0)),
        ([2**64 - 1], "u", (1,)),
        ([-(2**63)], "i", (1,)),
    ],
)
def test_numbers_become_arrays(value: Any, dtype_kind: str, shape: tuple[int, ...]) -> None:
    array = numeric_array(value, "rows")
    assert array.dtype.kind == dtype_kind
    assert array.shape == shape
    assert array.tolist() == value


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ([["1.0", "2.0"]], "(got strings)"),
        ([[1.0, "2.0"]], "(got strings)"),
        ([[True, False]], "(got booleans)"),
        ([[1.0, True]], "(got booleans)"),
        ([[1, False, 3]], "(got booleans)"),
        ([[0.5], [True]], "(got booleans)"),
        (True, "(got booleans)"),
        ([[1.0, None]], "(got nulls, objects or mixed types)"),
        ([None], "(got nulls, objects or mixed types)"),
        ([{"a": 1}], "(got nulls, objects or mixed types)"),
        ([2**64], "(got nulls, objects or mixed types)"),
    ],
)
def test_non_numbers_refused(value: Any, found: str) -> None:
    with pytest.raises(InvalidInput) as e:
        numeric_array(value, "instances")
    assert e.value.status == 400
    assert e.value.message == f"instances: values must be numbers {found}"


@pytest.mark.parametrize(
    "value", [[[1, 2], [3]], [[1, 2], 3], [[1, [2]], [3, 4]], [[[1, 2]], [[3]]]]
)
def test_ragged_rows_refused(value: Any) -> None:
    with pytest.raises(InvalidInput, match=r"^features: rows must all have the same length$"):
        numeric_array(value, "features")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_inf_are_kept_for_the_models_one_check(bad: float) -> None:
    array = numeric_array([[1.0, bad]] * 300, "inputs")  # the general path, not small_floats
    assert array.dtype == np.float64 and array.shape == (300, 2)
    np.testing.assert_array_equal(array[:, 1], np.full(300, bad))
    small = numeric_array([[1.0, bad]], "inputs")
    np.testing.assert_array_equal(small, np.array([[1.0, bad]]))


def test_arrays_pass_through() -> None:
    given_array = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(numeric_array(given_array, "x"), given_array)


json_number = st.one_of(
    st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False)
)


@settings(max_examples=100, deadline=None)
@given(rows=st.integers(1, 5), cols=st.integers(1, 5), data=st.data())
def test_rectangular_numbers_round_trip(rows: int, cols: int, data: st.DataObject) -> None:
    value = data.draw(
        st.lists(st.lists(json_number, min_size=cols, max_size=cols), min_size=rows, max_size=rows)
    )
    array = numeric_array(value, "x")
    assert array.shape == (rows, cols)
    np.testing.assert_array_equal(array, np.array(value, dtype=array.dtype))


@settings(max_examples=100, deadline=None)
@given(
    value=st.recursive(
        st.one_of(st.none(), st.booleans(), st.text(max_size=3), json_number),
        lambda children: st.lists(children, max_size=4),
        max_leaves=12,
    )
)
def test_any_json_is_an_array_of_numbers_or_invalid_input(value: Any) -> None:
    """Junk never escapes as anything but InvalidInput, and never yields a bool or NaN."""
    try:
        array = numeric_array(value, "x")
    except InvalidInput as exc:
        assert exc.message.startswith("x: ")
        return
    assert array.dtype.kind in "iuf"
    assert np.isfinite(array).all()
    flat = [value]
    while flat:
        item = flat.pop()
        if isinstance(item, list):
            flat.extend(item)
        else:
            assert not isinstance(item, bool | str) and item is not None


@settings(max_examples=200, deadline=None)
@given(
    value=st.lists(
        st.lists(
            st.floats(allow_nan=False, allow_infinity=False) | st.integers(-(2**60), 2**60),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_model_dtype_reads_what_a_cast_would(value: list[list[float]]) -> None:
    """Floats read straight into the model's FP32 equal the float64 read then cast; values
    FP32 cannot hold (or ints a float64 cannot) stay as numpy reads them, for the model's
    lossless cast to judge."""
    fp32 = np.dtype(np.float32)
    array = numeric_array(value, "x", fp32)
    general = numeric_array(value, "x")
    if array.dtype == fp32:
        with np.errstate(over="ignore"):
            np.testing.assert_array_equal(array, general.astype(fp32))
        assert np.isfinite(array).all()
    else:
        np.testing.assert_array_equal(array, general)
        assert array.dtype == general.dtype


def test_model_dtype_other_than_float_is_left_to_the_model() -> None:
    array = numeric_array([[1.5, 2.0]], "x", np.dtype(np.int64))
    assert array.dtype == np.float64  # the model's cast refuses 1.5 for INT64, by name
