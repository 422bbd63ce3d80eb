"""Shared-table items: outputs round-trip exactly; anything else is refused."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lambdaserve.cache.serialize import pack, unpack

DTYPES = st.sampled_from(["<f4", "<f8", "<i8", "<i4", "|b1", "<f2", "<u8"])


@given(hnp.arrays(DTYPES, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5)))
def test_numeric_outputs_round_trip_bit_for_bit(array: np.ndarray) -> None:
    back = unpack(pack({"out": array, "label": np.array([1, 2], dtype=np.int64)}))
    assert back["out"].dtype == array.dtype and back["out"].shape == array.shape
    assert back["out"].tobytes() == array.tobytes()
    assert back["label"].tolist() == [1, 2]


def test_string_outputs_round_trip() -> None:
    labels = np.array([["spam"], ["ham"]], dtype=object)
    back = unpack(pack({"label": labels}))
    assert back["label"].shape == (2, 1) and back["label"].tolist() == [["spam"], ["ham"]]


@pytest.mark.parametrize("blob", [b"", b"\x05\x00\x00\x00[]", b"junk-junk-junk"])
def test_foreign_bytes_are_refused(blob: bytes) -> None:
    with pytest.raises(ValueError):
        unpack(blob)


def test_truncated_or_padded_items_are_refused() -> None:
    blob = pack({"out": np.arange(10, dtype=np.float32)})
    with pytest.raises(ValueError):
        unpack(blob[:-1])
    with pytest.raises(ValueError):
        unpack(blob + b"x")
