"""Composing one object from parts by UploadPartCopy, around S3's 5 MiB minimum part size."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaserve.batch.compose import Piece, compose
from lambdaserve.batch.multipart import MIN_PART_BYTES

from .conftest import BUCKET

MIB = 1024 * 1024


def pieces(s3: Any, sizes: list[int]) -> tuple[list[Piece], bytes]:
    made, whole = [], b""
    for i, size in enumerate(sizes):
        body = os.urandom(size)
        key = f"fanout/job/parts/{i:05d}.predictions"
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
        made.append(Piece(key, size))
        whole += body
    return made, whole


def read(s3: Any, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


@pytest.mark.parametrize(
    "sizes",
    [
        [6 * MIB, 7 * MIB, 1],  # all large but the last: copied, nothing downloaded
        [1 * MIB, 2 * MIB, 3 * MIB],  # all small, 6 MiB together: merged into parts
        [6 * MIB, 100, 6 * MIB, 0, 5 * MIB + 3],  # a small one between large ones
        [2 * MIB, 9 * MIB, 2 * MIB],  # small, large, small
        [0, 5 * MIB, 0],
    ],
    ids=["large", "small", "small-between", "small-large-small", "empty-pieces"],
)
def test_parts_below_and_above_the_minimum(s3: Any, sizes: list[int]) -> None:
    made, whole = pieces(s3, sizes)
    result = compose(s3, BUCKET, "results/iris/out.csv", made, "text/csv")
    assert read(s3, "results/iris/out.csv") == whole
    assert result.bytes == len(whole)
    assert result.copied_bytes + result.downloaded_bytes == len(whole)
    # What is read back is bounded by the small pieces plus under 10 MiB per run of them.
    small = sum(s for s in sizes if s < MIN_PART_BYTES)
    runs = sum(1 for s in sizes if 0 < s < MIN_PART_BYTES)
    assert result.downloaded_bytes <= small + runs * 2 * MIN_PART_BYTES


def test_large_pieces_are_copied_without_download(s3: Any) -> None:
    made, whole = pieces(s3, [6 * MIB, 5 * MIB])
    result = compose(s3, BUCKET, "results/iris/out.csv", made, "text/csv")
    assert result.downloaded_bytes == 0 and result.parts == 2
    assert read(s3, "results/iris/out.csv") == whole


def test_a_piece_above_the_maximum_part_is_split_leaving_no_small_tail(s3: Any) -> None:
    made, whole = pieces(s3, [13 * MIB])
    result = compose(s3, BUCKET, "results/x.csv", made, "text/csv", max_part=11 * MIB)
    assert read(s3, "results/x.csv") == whole
    assert result.downloaded_bytes == 0 and result.parts == 2  # 8 MiB + 5 MiB, not 11 + 2


def test_small_total_is_one_put(s3: Any) -> None:
    made, whole = pieces(s3, [10, 0, 20])
    result = compose(s3, BUCKET, "results/x.csv", made, "text/csv")
    assert read(s3, "results/x.csv") == whole and result.parts == 1
    assert s3.head_object(Bucket=BUCKET, Key="results/x.csv")["ContentType"] == "text/csv"


def test_no_pieces_is_an_empty_object(s3: Any) -> None:
    compose(s3, BUCKET, "results/x.errors.jsonl", [], "application/x-ndjson")
    assert read(s3, "results/x.errors.jsonl") == b""


def test_a_missing_piece_aborts_and_publishes_nothing(s3: Any) -> None:
    made, _ = pieces(s3, [6 * MIB])
    made.append(Piece("fanout/job/parts/missing", 6 * MIB))
    with pytest.raises(ClientError):
        compose(s3, BUCKET, "results/x.csv", made, "text/csv")
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET, Prefix="results/")
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")
