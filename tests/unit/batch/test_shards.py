"""Shard cutting: every cut just past a line break outside quotes, with the input's numbering."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.batch.keys import Format
from lambdaserve.batch.shards import Shard, ShardPlan, plan_shards


def reader(data: bytes, chunk: int = 7):
    def read(start: int, end: int) -> Iterator[bytes]:
        for at in range(start, end, chunk):
            yield data[at : min(end, at + chunk)]

    return read


def plan(data: bytes, shard_bytes: int, kind: Format = Format.CSV, window: int = 4) -> ShardPlan:
    return plan_shards(reader(data), len(data), kind, shard_bytes, window=window, threads=3)


def check_cover(data: bytes, shards: list[Shard]) -> None:
    """Contiguous, non-empty, in order, covering the object; first_line is the real one."""
    assert shards[0].start == 0 and shards[-1].end == len(data)
    for i, (a, b) in enumerate(itertools.pairwise(shards)):
        assert a.index == i and a.end == b.start
    for shard in shards:
        assert shard.start < shard.end
        assert shard.first_line == data[: shard.start].count(b"\n") + 1


def outside_quotes(data: bytes, cut: int) -> bool:
    return cut == 0 or (data[cut - 1 : cut] == b"\n" and data[:cut].count(b'"') % 2 == 0)


def test_lines_cut_at_line_breaks_with_the_inputs_line_numbers() -> None:
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(200))
    result = plan(data, 64)
    assert result.header == b"a,b"
    assert len(result.shards) > 10
    check_cover(data, result.shards)
    assert all(outside_quotes(data, s.start) for s in result.shards)


def test_a_quoted_field_spanning_a_cut_moves_the_cut_past_it() -> None:
    long_field = b'"' + b"line\n" * 40 + b'"'
    data = b"id,text\n1,short\n2," + long_field + b"\n3,after\n4,more\n"
    result = plan(data, 30)
    check_cover(data, result.shards)
    for shard in result.shards:
        assert outside_quotes(data, shard.start), shard
    # No shard starts inside the quoted field.
    field_start = data.index(long_field)
    assert not any(field_start < s.start <= field_start + len(long_field) for s in result.shards)


def test_escaped_quotes_keep_the_quote_state() -> None:
    data = b'id,text\n1,"say ""hi""\nthere"\n2,"x"\n' * 20
    result = plan(data, 25)
    check_cover(data, result.shards)
    assert all(outside_quotes(data, s.start) for s in result.shards)


def test_crlf_lines_keep_their_carriage_return() -> None:
    data = b"a,b\r\n" + b"".join(b"%d,%d\r\n" % (i, i) for i in range(50))
    result = plan(data, 40)
    assert result.header == b"a,b\r"
    check_cover(data, result.shards)
    assert all(data[s.end - 2 : s.end] == b"\r\n" for s in result.shards)


def test_no_trailing_newline() -> None:
    data = b"a,b\n" + b"\n".join(b"%d,%d" % (i, i) for i in range(50))
    result = plan(data, 40)
    check_cover(data, result.shards)
    last = result.shards[-1]
    assert data[last.start : last.end].endswith(b"49,49")
    assert data[last.start - 1 : last.start] == b"\n"


def test_one_line_file_is_one_shard() -> None:
    data = b"x" * 300
    result = plan(data, 16)
    assert result.shards == [Shard(0, 0, 300, 1)]
    assert result.header == data


def test_a_line_longer_than_a_shard_merges_shards() -> None:
    data = b"h\n" + b"y" * 500 + b"\nz\n"
    result = plan(data, 50)
    check_cover(data, result.shards)
    assert [s.start for s in result.shards] == [0, 503]
    assert result.shards[1].first_line == 3


def test_jsonl_ignores_quotes_and_has_no_header() -> None:
    data = b"".join(b'{"a": "%d\\"x"}\n' % i for i in range(60))
    result = plan(data, 90, Format.JSONL)
    assert result.header is None
    check_cover(data, result.shards)
    assert all(data[s.start - 1 : s.start] in (b"", b"\n") for s in result.shards)


def test_a_cut_exactly_at_a_line_start() -> None:
    data = b"ab\ncd\nef\ngh\n"  # 12 bytes, planned cuts at 3, 6, 9: all line starts
    result = plan(data, 3)
    assert [s.start for s in result.shards] == [0, 3, 6, 9]
    assert [s.first_line for s in result.shards] == [1, 2, 3, 4]


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            st.text(alphabet="ab,\r", max_size=12),
            st.builds(lambda t: f'"{t}"', st.text(alphabet='a\n,""', max_size=12)),
        ),
        min_size=1,
        max_size=40,
    ),
    shard_bytes=st.integers(1, 60),
    window=st.integers(1, 9),
    trailing=st.booleans(),
)
def test_any_csv_cuts_outside_quotes(
    lines: list[str], shard_bytes: int, window: int, trailing: bool
) -> None:
    text = "\n".join(lines) + ("\n" if trailing else "")
    data = text.encode()
    if not data:
        return
    result = plan(data, shard_bytes, window=window)
    check_cover(data, result.shards)
    assert all(outside_quotes(data, s.start) for s in result.shards)
