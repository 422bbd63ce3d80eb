from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.batch.blocks import Block, UnreadableInput
from lambdaserve.batch.jsonl_reader import JsonlReader


def test_objects_arrays_and_passthrough() -> None:
    data = b'{"id": "a", "b": 2, "a": 1.5, "tags": [1]}\n\n[3, 4]\n'
    parsed = JsonlReader(("a", "b")).parse(Block(data, 1))
    assert parsed.features.tolist() == [[1.5, 2.0], [3.0, 4.0]]
    assert parsed.lines.tolist() == [1, 3]
    assert parsed.passthrough == [{"id": "a", "tags": [1]}, {}]
    assert parsed.blank_lines == 1 and not parsed.errors


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"a": 1}', "missing feature(s): 'b'"),
        (b'{"a": 1, "b": "2"}', "feature 'b' is not a number: string \"2\""),
        (b'{"a": 1, "b": null}', "feature 'b' is null (missing value)"),
        (b'{"a": true, "b": 1}', "feature 'a' is not a number: boolean true"),
        (b"[1, 2, 3]", "expected 2 values, found 3"),
        (b"[1, 1e39]", "feature 'b' is out of the float32 range: 1e+39"),
        (b'"text"', "expected a JSON object or array, found string"),
        (b"{nope", "invalid JSON"),
    ],
)
def test_bad_lines_after_the_first(line: bytes, reason: str) -> None:
    parsed = JsonlReader(("a", "b")).parse(Block(b"[1, 2]\n" + line + b"\n", 10))
    assert parsed.rows == 1
    (error,) = parsed.errors
    assert error.line == 11 and error.reason.startswith(reason)
    assert error.text == line.decode()


@pytest.mark.parametrize("first", [b"id,a,b", b'"just a string"', b"\x89PNG\r\n"])
def test_a_file_that_does_not_start_as_json_lines_is_unreadable(first: bytes) -> None:
    with pytest.raises(UnreadableInput, match="not JSON Lines"):
        JsonlReader(("a", "b")).parse(Block(first + b"\n[1, 2]\n", 1))


_obj = st.fixed_dictionaries(
    {"a": st.floats(-1e30, 1e30), "b": st.integers(-(2**31), 2**31)},
    optional={
        "id": st.text(max_size=5),
        "extra": st.lists(st.integers(-(2**63), 2**63 - 1), max_size=3),
    },
)


@given(st.lists(_obj, max_size=30))
def test_round_trip(rows: list[dict[str, object]]) -> None:
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    parsed = JsonlReader(("a", "b")).parse(Block(data, 1))
    assert parsed.rows == len(rows) and not parsed.errors
    assert parsed.passthrough == [{k: v for k, v in r.items() if k not in ("a", "b")} for r in rows]
