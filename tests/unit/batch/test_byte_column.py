from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.batch.byte_column import ByteColumn, join_rows


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_integers_match_str(values: list[int]) -> None:
    texts = ByteColumn.integers(np.asarray(values, dtype=np.int64))
    assert texts.to_list() == [str(v).encode() for v in values]


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), max_size=50), st.integers(1, 6))
def test_decimals_parse_back_to_the_rounded_value(values: list[float], places: int) -> None:
    texts = ByteColumn.decimals(np.asarray(values), places).to_list()
    for value, text in zip(values, texts, strict=True):
        assert (b"." in text and not text.endswith(b"0")) or text.endswith(b".0")
        assert abs(float(text) - value) <= 0.5 * 10**-places + 1e-9 * abs(value)


def test_decimals_examples() -> None:
    values = np.array([0, 0.5, 1, 0.973, -0.25, -1.5, 0.0000004, -0.0000004, 0.9999999])
    assert ByteColumn.decimals(values, 6).to_list() == [
        b"0.0",
        b"0.5",
        b"1.0",
        b"0.973",
        b"-0.25",
        b"-1.5",
        b"0.0",
        b"0.0",
        b"1.0",
    ]


def test_decimals_refuse_what_they_cannot_render() -> None:
    with pytest.raises(ValueError):
        ByteColumn.decimals(np.array([np.nan]), 6)


@given(
    st.lists(
        st.tuples(st.binary(max_size=8), st.binary(max_size=80), st.sampled_from([b"", b"xyz"])),
        max_size=30,
    )
)
def test_join_rows_equals_python_join(rows: list[tuple[bytes, bytes, bytes]]) -> None:
    # narrow, wide (past the grid width) and fixed-width columns take different paths
    columns = [ByteColumn.from_list([row[i] for row in rows]) for i in range(3)]
    expected = b"".join(b",".join(row) + b"\n" for row in rows)
    assert join_rows(columns) == expected
    assert join_rows(columns, sep=b"; ", end=b"\r\n") == b"".join(
        b"; ".join(row) + b"\r\n" for row in rows
    )


def test_join_rows_reads_columns_from_shared_buffers() -> None:
    line = ByteColumn.from_list([b"10", b"200", b"3"])
    labels = ByteColumn.table([b"setosa", b"virginica"], np.array([1, 0, 1]))
    assert join_rows([line.take(np.array([2, 0, 1])), labels]) == (
        b"3,virginica\n10,setosa\n200,virginica\n"
    )


def test_table_and_take() -> None:
    texts = ByteColumn.table([b"setosa", b"virginica"], np.array([1, 0, 1]))
    assert texts.to_list() == [b"virginica", b"setosa", b"virginica"]
    assert texts.take(np.array([2, 1])).to_list() == [b"virginica", b"setosa"]


def test_join_rows_rejects_ragged_columns() -> None:
    with pytest.raises(ValueError, match="rows"):
        join_rows([ByteColumn.from_list([b"a"]), ByteColumn.from_list([b"a", b"b"])])
