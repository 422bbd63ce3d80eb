"""Cut one input object into byte-range shards at line boundaries, for fan-out.

Every shard must read exactly as the single-function path reads the same lines: it starts
just past a line break that is outside any quoted CSV field, and it knows the input's
line number of its first line (error reports and the header-less CSV `line` column use
it). Both depend on everything before the cut, so the plan is made in two steps:

1. the object is split into equal segments, read in parallel (ranged GETs), and each
   segment's line breaks and `"` bytes are counted: prefix sums give the line number and
   the quote state (inside a quoted field or not) at every planned cut;
2. at each planned cut a small window is read forward, with that quote state, to the
   first line break outside quotes: the actual cut. A cut that finds none before the
   next planned cut is dropped (its shard merges with the next one).

So quoted fields spanning a planned cut are handled, not refused: the cut moves past
them. The scan reads the object once, at S3's speed, before any shard starts; it is the
dispatch overhead the README's fan-out model includes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from lambdaserve.batch.keys import Format
from lambdaserve.batch.source import ByteRange

# Bytes [start, end) of the object, in chunks.
ReadRange = Callable[[int, int], Iterable[bytes]]

WINDOW_BYTES = 64 * 1024
SCAN_THREADS = 8
_NEWLINE, _QUOTE = b"\n", b'"'


@dataclass(frozen=True)
class Shard:
    index: int
    start: int
    end: int
    first_line: int  # the input's line number of the shard's first line

    def byte_range(self, header: bytes | None) -> ByteRange:
        return ByteRange(self.start, self.end, self.first_line, header)

    def to_json(self) -> dict[str, int]:
        return {
            "index": self.index,
            "start": self.start,
            "end": self.end,
            "first_line": self.first_line,
        }

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Shard:
        return cls(
            int(item["index"]), int(item["start"]), int(item["end"]), int(item["first_line"])
        )


@dataclass(frozen=True)
class ShardPlan:
    header: bytes | None  # the input's first line (no line break), carried to every CSV shard
    shards: list[Shard]


@dataclass(frozen=True)
class _Count:
    newlines: int
    quotes: int
    head: bytes  # the segment's first `window` bytes: where its cut is searched first
    last: bytes  # its last byte: does the next segment start a line?


def plan_shards(
    read: ReadRange,
    size: int,
    kind: Format,
    shard_bytes: int,
    *,
    window: int = WINDOW_BYTES,
    threads: int = SCAN_THREADS,
) -> ShardPlan:
    """Shards of about `shard_bytes` covering bytes [0, size) of a non-empty object."""
    if size <= 0 or shard_bytes <= 0:
        raise ValueError("an empty object or shard size cannot be planned")
    quoted = kind is Format.CSV
    header = _first_line(read, size, window) if quoted else None
    count = -(-size // shard_bytes)
    planned = [size * k // count for k in range(count + 1)]
    segments = list(pairwise(planned))
    with ThreadPoolExecutor(max(1, min(threads, len(segments))), "shard-scan") as pool:
        counts = list(pool.map(lambda seg: _count(read(*seg), window), segments))
    cuts, lines, quotes = [(0, 1)], 1, 0
    for k in range(1, count):
        lines += counts[k - 1].newlines
        quotes += counts[k - 1].quotes
        in_quotes = quoted and quotes % 2 == 1
        found = _cut_after(
            read, planned[k], planned[k + 1], in_quotes, quoted, window, counts[k], counts[k - 1]
        )
        if found is None:
            continue
        cut, extra_lines = found
        if cuts[-1][0] < cut < size:
            cuts.append((cut, lines + extra_lines))
    bounds = [*(c for c, _ in cuts), size]
    shards = [
        Shard(i, start, end, first_line)
        for i, ((start, first_line), end) in enumerate(zip(cuts, bounds[1:], strict=False))
    ]
    return ShardPlan(header, shards)


def _count(chunks: Iterable[bytes], window: int) -> _Count:
    newlines = quotes = 0
    head = bytearray()
    last = b""
    for chunk in chunks:
        if not chunk:
            continue
        newlines += chunk.count(_NEWLINE)
        quotes += chunk.count(_QUOTE)
        if len(head) < window:
            head += chunk[: window - len(head)]
        last = chunk[-1:]
    return _Count(newlines, quotes, bytes(head), last)


def _first_line(read: ReadRange, size: int, window: int) -> bytes:
    """Up to the first line break, as the single path takes its header."""
    head = bytearray()
    start = 0
    while start < size:
        head += b"".join(read(start, min(size, start + window)))
        start += window
        at = head.find(_NEWLINE)
        if at >= 0:
            return bytes(head[:at])
    return bytes(head)


def _cut_after(
    read: ReadRange,
    at: int,
    limit: int,
    in_quotes: bool,
    quoted: bool,
    window: int,
    segment: _Count,
    before: _Count,
) -> tuple[int, int] | None:
    """The first position in (at, limit] just past a line break outside quotes, scanning
    from `at` (the start of `segment`, after `before`) in the given quote state, with the
    line breaks crossed before it; None if there is none before `limit`. The first window
    was kept by the count pass: most cuts need no read of their own."""
    # A cut exactly at `at` is fine when the byte before it ends a line outside quotes.
    if before.last == _NEWLINE and not in_quotes:
        return at, 0
    crossed = 0
    position = at
    while position < limit:
        if position == at and segment.head:
            data = segment.head
        else:
            data = b"".join(read(position, min(limit, position + window)))
        found = _scan(data, in_quotes, quoted)
        if found is not None:
            offset, newlines = found
            return position + offset, crossed + newlines
        crossed += data.count(_NEWLINE)
        if quoted:
            in_quotes ^= data.count(_QUOTE) % 2 == 1
        position += len(data)
        window *= 2  # a long field: read further at each step
    return None


def _scan(data: bytes, in_quotes: bool, quoted: bool) -> tuple[int, int] | None:
    """(offset just past the first line break outside quotes, line breaks up to it)."""
    start = newlines = 0
    while True:
        at = data.find(_NEWLINE, start)
        if at < 0:
            return None
        if quoted and data.count(_QUOTE, start, at) % 2 == 1:
            in_quotes = not in_quotes
        newlines += 1
        if not in_quotes:
            return at + 1, newlines
        start = at + 1


def s3_reader(
    s3: Any, bucket: str, key: str, etag: str | None, version_id: str | None
) -> ReadRange:
    """Ranged GETs of one object version (IfMatch on its ETag: a replaced object fails)."""

    def read(start: int, end: int) -> Iterator[bytes]:
        args: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes={start}-{end - 1}"}
        if etag:
            args["IfMatch"] = f'"{etag.strip(chr(34))}"'
        if version_id:
            args["VersionId"] = version_id
        body = s3.get_object(**args)["Body"]
        try:
            yield from body.iter_chunks(1024 * 1024)
        finally:
            body.close()

    return read
