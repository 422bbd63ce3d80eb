"""S3ObjectSource against moto: whole objects, byte ranges with the header carried, gzip."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from lambdaserve.batch.keys import Format
from lambdaserve.batch.source import ByteRange, InputRef, S3ObjectSource

from .conftest import BUCKET

TEXT = b"id,a\n1,0.5\n2,1.5\n3,2.5\n"


def put(s3: Any, key: str, body: bytes) -> InputRef:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    return InputRef(BUCKET, key, s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"'))


def read(source: S3ObjectSource) -> bytes:
    assert source.open() is None
    try:
        return b"".join(source.chunks())
    finally:
        source.close()


def test_a_whole_object_is_read_with_what_the_summary_needs(s3: Any) -> None:
    ref = put(s3, "incoming/iris/a.csv", TEXT)
    source = S3ObjectSource(s3, ref, Format.CSV, read_bytes=4)
    assert read(source) == TEXT
    assert (source.etag, source.size, source.first_line, source.header) == (
        ref.etag,
        len(TEXT),
        1,
        None,
    )


def test_gzip_is_inflated_on_the_way(s3: Any) -> None:
    ref = put(s3, "incoming/iris/a.csv.gz", gzip.compress(TEXT))
    assert read(S3ObjectSource(s3, ref, Format.CSV, gzip=True)) == TEXT


def test_a_later_range_carries_the_header_and_its_first_line_number(s3: Any) -> None:
    ref = put(s3, "incoming/iris/a.csv", TEXT)
    start = TEXT.index(b"2,")
    source = S3ObjectSource(s3, ref, Format.CSV, byte_range=ByteRange(start, len(TEXT), 3, b"id,a"))
    assert read(source) == b"2,1.5\n3,2.5\n"
    assert (source.first_line, source.header) == (3, b"id,a")


def test_the_first_range_reads_its_own_header(s3: Any) -> None:
    ref = put(s3, "incoming/iris/a.csv", TEXT)
    end = TEXT.index(b"2,")
    source = S3ObjectSource(s3, ref, Format.CSV, byte_range=ByteRange(0, end, 1, b"id,a"))
    assert read(source) == b"id,a\n1,0.5\n"
    assert source.header is None


def test_ranges_and_gzip_do_not_mix_and_ranges_must_be_ranges(s3: Any) -> None:
    ref = InputRef(BUCKET, "incoming/iris/a.csv.gz")
    with pytest.raises(ValueError, match="gzip"):
        S3ObjectSource(s3, ref, Format.CSV, gzip=True, byte_range=ByteRange(0, 10, 1, None))
    with pytest.raises(ValueError, match="not a byte range"):
        ByteRange(10, 10, 1, None)


def test_a_replaced_or_deleted_object_is_nothing_to_do(s3: Any) -> None:
    old = put(s3, "incoming/iris/a.csv", TEXT)
    put(s3, "incoming/iris/a.csv", TEXT + b"4,3.5\n")
    assert "stale event" in (S3ObjectSource(s3, old, Format.CSV).open() or "")
    gone = InputRef(BUCKET, "incoming/iris/never.csv")
    assert S3ObjectSource(s3, gone, Format.CSV).open() == "the object no longer exists"


def test_replaced_since_compares_the_etag_that_was_read(s3: Any) -> None:
    ref = put(s3, "incoming/iris/a.csv", TEXT)
    source = S3ObjectSource(s3, ref, Format.CSV)
    read(source)
    assert source.replaced_since() is None
    put(s3, "incoming/iris/a.csv", TEXT + b"4,3.5\n")
    assert "replaced while it was processed" in (source.replaced_since() or "")
    s3.delete_object(Bucket=BUCKET, Key=ref.key)
    assert source.replaced_since() == "the object no longer exists"


def test_chunks_before_open_is_a_programming_error(s3: Any) -> None:
    with pytest.raises(RuntimeError, match="open"):
        S3ObjectSource(s3, InputRef(BUCKET, "k"), Format.CSV).chunks()
