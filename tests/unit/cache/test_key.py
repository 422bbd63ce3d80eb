"""Cache keys: equal for what the model would score alike, different for anything else."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.cache.key import canonical_inputs, request_key
from lambdaserve.errors import InvalidInput
from lambdaserve.repository import TensorSpec

SPECS = {"input": TensorSpec("input", "FP32", (-1, 4))}
ROW = [[5.1, 3.5, 1.4, 0.2]]


def key(
    inputs: dict[str, np.ndarray], version: str = "1", outputs: tuple[str, ...] | None = None
) -> bytes:
    canonical = canonical_inputs(inputs, SPECS)
    assert canonical is not None
    return request_key("iris", version, canonical, outputs)


def test_protocols_share_a_key_once_cast_to_the_model_dtype() -> None:
    as_json = np.array(ROW, dtype=np.float64)  # seed-style and TF Serving decode JSON numbers
    as_v2 = np.array(ROW, dtype=np.float32)  # V2 FP32 tensors
    assert key({"input": as_json}) == key({"input": as_v2})


def test_version_outputs_values_shape_and_model_change_the_key() -> None:
    base = {"input": np.array(ROW, dtype=np.float32)}
    reference = key(base)
    assert key(base, version="2") != reference
    assert key(base, outputs=("label",)) != reference
    assert key({"input": base["input"] + np.float32(1e-6)}) != reference
    assert key({"input": np.array(ROW * 2, dtype=np.float32)}) != reference
    assert request_key("other", "1", base, None) != reference


def test_key_ignores_memory_layout() -> None:
    data = np.arange(8, dtype=np.float32).reshape(4, 2)
    assert key({"input": np.ascontiguousarray(data.T)}) == key({"input": data.T})


def test_inputs_outside_the_signature_are_left_to_the_model() -> None:
    assert canonical_inputs({"other": np.ones((1, 4))}, SPECS) is None
    assert canonical_inputs({}, SPECS) is None
    extra = {"input": np.ones((1, 4)), "more": np.ones((1, 4))}
    assert canonical_inputs(extra, SPECS) is None
    with pytest.raises(InvalidInput):  # the same lossless-cast refusal the model gives
        canonical_inputs({"input": np.array([[1e300, 0, 0, 0]])}, SPECS)


def test_string_tensors_hash_their_text() -> None:
    specs = {"text": TensorSpec("text", "BYTES", (-1, 1))}
    a = canonical_inputs({"text": np.array([["good film"]], dtype=object)}, specs)
    b = canonical_inputs({"text": np.array([[b"good film"]], dtype=object)}, specs)
    c = canonical_inputs({"text": np.array([["bad film"]], dtype=object)}, specs)
    assert a is not None and b is not None and c is not None
    assert request_key("t", "1", a, None) == request_key("t", "1", b, None)
    assert request_key("t", "1", a, None) != request_key("t", "1", c, None)


@given(
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=4, max_size=4),
    st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=4, max_size=4),
)
def test_keys_are_equal_exactly_when_the_float32_tensors_are(
    a: list[float], b: list[float]
) -> None:
    ta, tb = np.array([a], dtype=np.float32), np.array([b], dtype=np.float32)
    assert (key({"input": ta}) == key({"input": tb})) == (ta.tobytes() == tb.tobytes())
