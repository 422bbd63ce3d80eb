"""A text model's batch readers: texts (with commas, quotes, line breaks) in, bad rows named."""

from __future__ import annotations

import orjson
import pytest

from lambdaserve.batch.blocks import Block, UnreadableInput
from lambdaserve.batch.csv_header import read_header
from lambdaserve.batch.text_rows import TextCsvReader, TextJsonlReader


def test_csv_texts_keep_commas_quotes_and_line_breaks() -> None:
    layout = read_header(b"id,text,stars\n", ("text",))
    data = (
        b'1,"Great kettle, works perfectly",5\n'
        b'2,"She said ""meh""\nand returned it",2\n'
        b"3,plain words,4\n"
    )
    block = TextCsvReader(layout).parse(Block(data, first_line=2))
    assert block.features.dtype == object and block.features.shape == (3, 1)
    assert block.features[:, 0].tolist() == [
        "Great kettle, works perfectly",
        'She said "meh"\nand returned it',
        "plain words",
    ]
    assert block.lines.tolist() == [2, 3, 5]
    assert [c.to_list() for c in block.passthrough] == [[b"1", b"2", b"3"], [b"5", b"2", b"4"]]
    assert block.errors == []


def test_csv_rows_with_no_text_or_the_wrong_width_are_row_errors() -> None:
    layout = read_header(b"text,id\n", ("text",))
    data = b"fine,1\n,2\nextra,3,4\n\nalso fine,5\n"
    block = TextCsvReader(layout).parse(Block(data, first_line=2))
    assert block.features[:, 0].tolist() == ["fine", "also fine"]
    assert block.lines.tolist() == [2, 6]
    assert [(e.line, e.reason) for e in block.errors] == [
        (3, "column 'text' is empty (missing text)"),
        (4, "expected 2 columns, found 3"),
    ]
    assert block.blank_lines == 1


def test_a_csv_without_the_text_column_is_unreadable() -> None:
    with pytest.raises(UnreadableInput, match="'text'"):
        read_header(b"review,id\n", ("text",))


def test_jsonl_texts_by_name_or_position_and_bad_values() -> None:
    rows = [{"text": "love it", "id": 1}, ["broke, sadly"], {"text": 3}, {"text": None}, {"id": 2}]
    data = b"".join(orjson.dumps(r) + b"\n" for r in rows)
    block = TextJsonlReader(("text",)).parse(Block(data, first_line=1))
    assert block.features.dtype == object
    assert block.features[:, 0].tolist() == ["love it", "broke, sadly"]
    assert block.passthrough == [{"id": 1}, {}]
    assert [(e.line, e.reason) for e in block.errors] == [
        (3, "feature 'text' is not a string: number 3"),
        (4, "feature 'text' is null (missing text)"),
        (5, "missing feature(s): 'text'"),
    ]


def test_an_empty_block_gives_an_empty_text_matrix() -> None:
    layout = read_header(b"text\n", ("text",))
    assert TextCsvReader(layout).parse(Block(b"", 2)).features.shape == (0, 1)
    assert TextJsonlReader(("text",)).parse(Block(b"\n", 1)).features.shape == (0, 1)
