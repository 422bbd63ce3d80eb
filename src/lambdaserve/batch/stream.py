"""Text in chunks -> blocks of whole lines (the pipeline's split): bounded memory for any size.

Gzip is inflated incrementally with a cap on each step's output (so a small, highly
compressed object cannot blow up memory), concatenated gzip members are followed, and
a CSV block is never cut inside a quoted field that spans lines.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

import numpy as np

from lambdaserve.batch.blocks import Block, UnreadableInput

_GZIP = zlib.MAX_WBITS | 16
_QUOTE = b'"'
_NEWLINE = ord("\n")


def gunzip(chunks: Iterable[bytes], step: int) -> Iterator[bytes]:
    """Inflate gzip data (one or more members), yielding at most `step` bytes at a time."""
    inflater = zlib.decompressobj(_GZIP)
    in_member = False
    for chunk in chunks:
        pending = chunk
        while pending:
            in_member = True
            out = _inflate(inflater, pending, step)
            if out:
                yield out
            if inflater.eof:
                pending = inflater.unused_data
                inflater = zlib.decompressobj(_GZIP)
                in_member = False
            elif inflater.unconsumed_tail:
                pending = inflater.unconsumed_tail
            else:
                # Input used up, but zlib may still hold output the cap kept back.
                while out and not inflater.eof:
                    out = _inflate(inflater, b"", step)
                    if out:
                        yield out
                pending = b""
                if inflater.eof:
                    pending = inflater.unused_data
                    inflater = zlib.decompressobj(_GZIP)
                    in_member = False
    if in_member:
        raise UnreadableInput("corrupt gzip data: the stream ends in the middle of a member")


def _inflate(inflater: zlib._Decompress, data: bytes, step: int) -> bytes:
    try:
        return inflater.decompress(data, step)
    except zlib.error as exc:
        raise UnreadableInput(f"corrupt gzip data: {exc}") from exc


def lines_blocks(
    chunks: Iterable[bytes],
    block_bytes: int,
    quoted: bool,
    max_block_bytes: int,
    first_block_bytes: int | None = None,
    first_line: int = 1,
) -> Iterator[Block]:
    """Group a byte stream into blocks of about `block_bytes` that end at a line break.

    With `quoted` (CSV), a cut only lands where the number of `"` before it is even,
    i.e. outside any quoted field. A last line without a newline gets one.
    Blocks start at `first_block_bytes` and grow 4x each up to `block_bytes`: the first
    predictions start sooner, so a pipeline spends less time filling up. Lines are
    numbered from `first_line` (a byte range of a file keeps the file's numbering).
    """
    buffer = bytearray()
    line = first_line
    target = min(first_block_bytes or block_bytes, block_bytes)
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= target:
            cut = _cut(buffer, quoted, target)
            if cut == 0:
                if len(buffer) > max_block_bytes:
                    raise UnreadableInput(
                        f"no line break outside quotes within {max_block_bytes:,} bytes "
                        f"from line {line}: not a line-oriented file, or an unterminated quote"
                    )
                break
            with memoryview(buffer) as view:
                data = bytes(view[:cut])  # one copy (`bytes(buffer[:cut])` makes two)
            del buffer[:cut]
            yield Block(data, line)
            line += _count_lines(data)
            target = min(target * 4, block_bytes)
    if buffer:
        if not buffer.endswith(b"\n"):
            buffer += b"\n"
        yield Block(bytes(buffer), line)


def _count_lines(data: bytes) -> int:
    """`data.count(b"\n")`, three times faster (numpy compares 32 bytes at a time)."""
    return int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _NEWLINE))


def _cut(buffer: bytearray, quoted: bool, limit: int) -> int:
    """Index just past a line break outside quotes: the last one within `limit` bytes,
    else the last one in the buffer (0: none yet)."""
    return _cut_before(buffer, quoted, limit) or _cut_before(buffer, quoted, len(buffer))


def _cut_before(buffer: bytearray, quoted: bool, end: int) -> int:
    cut = buffer.rfind(b"\n", 0, end) + 1
    if not quoted or cut == 0 or buffer.find(_QUOTE, 0, cut) < 0:
        return cut
    odd = buffer.count(_QUOTE, 0, cut) % 2
    while cut and odd:
        previous = buffer.rfind(b"\n", 0, cut - 1) + 1
        odd ^= buffer.count(_QUOTE, previous, cut) % 2
        cut = previous
    return cut
