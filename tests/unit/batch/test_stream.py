from __future__ import annotations

import gzip

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.batch.blocks import UnreadableInput
from lambdaserve.batch.stream import gunzip, lines_blocks


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("chunk", [1, 7, 4096, 10**7])
def test_gunzip_follows_concatenated_members(chunk: int) -> None:
    data = b"".join(b"line %d\n" % i for i in range(20_000))
    packed = gzip.compress(data[:50_000]) + gzip.compress(data[50_000:])
    assert b"".join(gunzip(chunked(packed, chunk), 1024)) == data


def test_gunzip_output_steps_are_bounded() -> None:
    packed = gzip.compress(b"\0" * 5_000_000)  # ~5 KB in, 5 MB out
    steps = list(gunzip([packed], 65536))
    assert max(len(s) for s in steps) <= 65536
    assert sum(len(s) for s in steps) == 5_000_000


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id,x\n1,2\n", "incorrect header check"),
        (gzip.compress(b"a,b\n" * 1000)[:-9], "ends in the middle"),
        (gzip.compress(b"a,b\n") + b"garbage", "incorrect header check"),
    ],
)
def test_corrupt_gzip_is_unreadable(data: bytes, message: str) -> None:
    with pytest.raises(UnreadableInput, match=message):
        b"".join(gunzip(chunked(data, 5), 1024))


def test_flipped_byte_in_gzip_is_unreadable() -> None:
    packed = bytearray(gzip.compress(b"".join(b"%d,%d\n" % (i, i) for i in range(1000))))
    packed[len(packed) // 2] ^= 0xFF
    with pytest.raises(UnreadableInput):
        b"".join(gunzip([bytes(packed)], 1024))


def test_quoted_newlines_never_split_a_block() -> None:
    text = b'a,b\n1,"x\ny"\n2,3\n"q""\n\n",4\n5,6'
    for size in range(1, len(text) + 2):
        blocks = list(lines_blocks(chunked(text, 3), size, quoted=True, max_block_bytes=1000))
        assert b"".join(b.data for b in blocks) == text + b"\n"
        assert all(b.data.count(b'"') % 2 == 0 for b in blocks)


def test_line_numbers_of_blocks() -> None:
    text = b"".join(b"%d\n" % i for i in range(1, 101))
    blocks = list(lines_blocks(chunked(text, 10), 50, quoted=False, max_block_bytes=1000))
    for block in blocks:
        assert int(block.data.split(b"\n")[0]) == block.first_line


def test_a_file_without_line_breaks_is_refused_not_buffered() -> None:
    with pytest.raises(UnreadableInput, match="no line break"):
        list(lines_blocks([b"x" * 1000] * 10, 100, quoted=False, max_block_bytes=5000))


def test_an_unterminated_quote_is_refused() -> None:
    data = [b'a,"b\n'] + [b"1,2\n" * 100] * 20
    with pytest.raises(UnreadableInput, match="unterminated quote"):
        list(lines_blocks(data, 100, quoted=True, max_block_bytes=2000))


_lines = st.lists(
    st.text(alphabet=st.sampled_from('ab,"\n1'), max_size=12).map(str.encode), max_size=30
)


@given(lines=_lines, chunk=st.integers(1, 40), block=st.integers(1, 60), first=st.integers(1, 60))
def test_blocks_reassemble_the_stream_at_line_breaks(
    lines: list[bytes], chunk: int, block: int, first: int
) -> None:
    # Balance quotes per line so the stream is valid CSV-ish text.
    text = b"".join(s + (b'"' if s.count(b'"') % 2 else b"") + b"\n" for s in lines)
    blocks = list(lines_blocks(chunked(text, chunk), block, True, 10**6, first_block_bytes=first))
    assert all(b.data.count(b'"') % 2 == 0 for b in blocks)
    assert b"".join(b.data for b in blocks) == text
    line = 1
    for b in blocks:
        assert b.first_line == line and b.data.endswith(b"\n")
        line += b.data.count(b"\n")


@given(st.binary(max_size=3000), st.integers(1, 500), st.integers(1, 9))
def test_gunzip_round_trip(data: bytes, chunk: int, level: int) -> None:
    packed = gzip.compress(data, level)
    assert b"".join(gunzip(chunked(packed, chunk), 256)) == data


def test_blocks_grow_from_the_first_block_size() -> None:
    text = b"".join(b"%07d\n" % i for i in range(2000))  # 8-byte lines, 16,000 bytes
    small = list(lines_blocks([text], 4000, False, max_block_bytes=10**6, first_block_bytes=80))
    assert [len(b.data) for b in small][:4] == [80, 320, 1280, 4000]
    assert b"".join(b.data for b in small) == text
