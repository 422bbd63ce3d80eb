from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.batch.blocks import Block, ParsedBlock, UnreadableInput
from lambdaserve.batch.csv_header import read_header
from lambdaserve.batch.csv_reader import CsvReader
from lambdaserve.batch.stream import lines_blocks

FEATURES = ("a", "b")


def parse(text: bytes, first_line: int = 2, header: bytes = b"id,b,a,note\n"):  # type: ignore[no-untyped-def]
    return CsvReader(read_header(header, FEATURES)).parse(Block(text, first_line))


def test_header_finds_features_by_name_and_passes_the_rest_through() -> None:
    layout = read_header(b"id,b,a,note\r\n", FEATURES)
    assert layout.features == (2, 1)
    assert layout.passthrough_names == ("id", "note")
    assert layout.has_header


def test_headerless_file_of_exactly_the_feature_count() -> None:
    layout = read_header(b"1.5,-2e3\n", FEATURES)
    assert not layout.has_header and layout.features == (0, 1) and layout.passthrough == ()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"x,y\n", "names none of the model's 2 features"),
        (b"1,2,3\n", "header-less row of 2 numbers"),
        (b"a,c\n", "lacks feature column\\(s\\): 'b'"),
        (b"a,a,b\n", "appears twice"),
        (b"\xff\xfe,a\n", "not UTF-8"),
        (b"\n", "empty"),
    ],
)
def test_unusable_first_lines(line: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=message):
        read_header(line, FEATURES)


def test_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept() -> None:
    data = b"1,2,3,x\n2,4,5,y\n\n3,bad,1,z\n4,1\n5,nan,1,w\n6,,1,v\n7,1.5,2.5,last\n8,1,2,3,4\n"
    parsed = parse(data)
    np.testing.assert_array_equal(parsed.features, [[3, 2], [5, 4], [2.5, 1.5]])
    assert parsed.lines.tolist() == [2, 3, 9]
    assert [t.to_list() for t in parsed.passthrough] == [
        [b"1", b"2", b"7"],
        [b"x", b"y", b"last"],
    ]
    assert parsed.blank_lines == 1
    assert [(e.line, e.reason) for e in parsed.errors] == [
        (5, "column 'b' is not a number: 'bad'"),
        (6, "expected 4 columns, found 2"),
        (7, "column 'b' is not a finite number"),
        (8, "column 'b' is empty (missing value)"),
        (10, "expected 4 columns, found 5"),
    ]
    assert parsed.errors[0].text == "3,bad,1,z"


def test_bad_rows_inside_large_blocks_are_isolated_exactly() -> None:
    rows = [b"%d,%d,%d,n%d" % (i, i, i + 1, i) for i in range(5000)]
    rows[100] += b",extra"
    rows[200] = b""
    rows[300] = b"300,x,301,n300"
    rows[4999] = b"4999,4999,4999"
    parsed = parse(b"\n".join(rows) + b"\n")
    assert parsed.rows == 4996 and parsed.blank_lines == 1
    assert [e.line for e in parsed.errors] == [102, 302, 5001]
    assert 102 not in parsed.lines and 5000 in parsed.lines


def test_quoted_fields_go_through_the_csv_module() -> None:
    data = b'1,2,3,"hello, ""world"""\n2,4,5,"multi\nline"\n3,x,1,z\n4,5,6,\n'
    parsed = parse(data)
    assert parsed.lines.tolist() == [2, 3, 6]
    assert parsed.passthrough[1].to_list() == [b'"hello, ""world"""', b'"multi\nline"', b""]
    assert [(e.line, e.reason) for e in parsed.errors] == [(5, "column 'b' is not a number: 'x'")]


_field = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"), max_size=8
)
_value = st.floats(allow_nan=False, allow_infinity=False, width=32)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(_field, _value, _value, _field), max_size=40),
    block=st.integers(1, 400),
)
def test_round_trip_any_table_any_block_size(
    rows: list[tuple[str, float, float, str]], block: int
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "b", "a", "note"])
    writer.writerows([(i, repr(b), repr(a), n) for i, b, a, n in rows])
    raw = buffer.getvalue().encode()
    header, _, body = raw.partition(b"\n")
    reader = CsvReader(read_header(header, FEATURES))
    features, notes, ids = [], [], []
    for chunk in lines_blocks([body], block, quoted=True, max_block_bytes=10**6):
        parsed = reader.parse(Block(chunk.data, chunk.first_line + 1))
        assert not parsed.errors
        features.extend(parsed.features.tolist())
        ids.extend(parsed.passthrough[0].to_list())
        notes.extend(parsed.passthrough[1].to_list())
    assert features == [[a, b] for _, b, a, _ in rows]
    assert [unquote(t) for t in ids] == [i for i, *_ in rows]
    assert [unquote(t) for t in notes] == [n for *_, n in rows]


def unquote(field: bytes) -> str:
    """What a CSV reader makes of one passthrough field as we wrote it."""
    return next(csv.reader(io.StringIO(field.decode(), newline="")), [""])[0]


def assert_same_parse(whole: ParsedBlock, chunked: ParsedBlock) -> None:
    np.testing.assert_array_equal(whole.features, chunked.features)
    assert whole.lines.tolist() == chunked.lines.tolist()
    assert [t.to_list() for t in whole.passthrough] == [t.to_list() for t in chunked.passthrough]
    assert whole.errors == chunked.errors and whole.blank_lines == chunked.blank_lines


NOTE = b"id,b,a,note\n"


@pytest.mark.parametrize(
    ("header", "data", "regular"),
    [
        (NOTE, b"1,2,3,x\n2,4,5,y\n", False),
        (NOTE, b"1,2,3,x\n\n2,4,5,y\n", False),
        (NOTE, b"1,2,3,x\n2,4,5\n", False),
        (NOTE, b"1,2,3,x,extra\n2,4,5,y\n", False),
        (NOTE, b"1,2,inf,x\n2,4,5,y\n", False),
        (NOTE, b"1,2,,x\n", False),
        (NOTE, b"\n", False),
        # bytes numpy takes for blanks around a number: accepted on every path alike
        (NOTE, b"1,2\xa0,3,x\n2,\x1c4,5,y\n3,4 ,\t5,z\n", False),
        # every column numeric: one loadtxt call proves the widths (the regular path)
        (b"id,b,a,n\n", b"1,2,3,4\n22,4,5,-6\n", True),
        (b"b,id,a,n\n", b"2,1,3,4\n4,22,5,6.5\n", True),  # passthrough in the middle
        (b"b,a,id\n", b"2,3,1\n4,5,\n", False),  # empty trailing passthrough
        (b"id,b,a\n", b"," + b"7" * 200 + b",3\n1,2,3\n", False),  # empty id
        (b"id,b,a\n", b"9" * 200 + b",2,3\n1,2,3\n", True),  # longer than a scan
        (b"b,a,id\n", b"2,3," + b"9" * 200 + b"\n4,5,1\n", True),
        (b"id,b,a\n", b"1,2,3\n2,nan,3\n3,4,5\n", True),  # with a non-finite row
        (b"id,b,a\n", b"1,2,3\n2,4,5,6\n", False),  # a wider line
        (b"b,a\n", b"1,2\n3,4\n", True),  # no passthrough at all
    ],
)
def test_whole_block_parsing_gives_the_same_result(
    header: bytes, data: bytes, regular: bool
) -> None:
    layout = read_header(header, FEATURES)
    whole_reader = CsvReader(layout, whole_blocks=True)
    assert whole_reader.prepare(Block(data, 5)).regular is regular
    assert_same_parse(whole_reader.parse(Block(data, 5)), CsvReader(layout).parse(Block(data, 5)))


number = st.one_of(
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["nan", "", "x", "1e999", "007", "-0"]),
)


@settings(max_examples=150)
@given(
    order=st.permutations(["a", "b", "p", "q"]),
    rows=st.lists(st.lists(number, min_size=3, max_size=5), min_size=1, max_size=30),
)
def test_whole_blocks_equal_the_careful_path_on_any_numeric_table(
    order: list[str], rows: list[list[str]]
) -> None:
    layout = read_header(",".join(order).encode() + b"\n", FEATURES)
    data = b"".join(",".join(r).encode() + b"\n" for r in rows)
    whole_reader = CsvReader(layout, whole_blocks=True)
    for _ in range(2):  # a reader that has stopped trying whole tables answers the same
        chunked = CsvReader(layout).parse(Block(data, 2))
        assert_same_parse(whole_reader.parse(Block(data, 2)), chunked)


def test_a_line_of_blanks_in_a_one_column_file_is_a_missing_value() -> None:
    layout = read_header(b"a\n", ("a",))
    for reader in (CsvReader(layout), CsvReader(layout, whole_blocks=True)):
        parsed = reader.parse(Block(b"1\n \n2.5\n", 2))
        assert parsed.features.tolist() == [[1.0], [2.5]] and parsed.lines.tolist() == [2, 4]
        assert [(e.line, e.reason) for e in parsed.errors] == [
            (3, "column 'a' is empty (missing value)")
        ]
