"""S3MultipartSink against moto: nothing visible before publish, nothing left after discard."""

from __future__ import annotations

import gzip
from typing import Any

import orjson

from lambdaserve.batch.blocks import RowError
from lambdaserve.batch.sink import S3MultipartSink

from .conftest import BUCKET


def sink(s3: Any, gzip: bool = False) -> S3MultipartSink:
    return S3MultipartSink(
        s3,
        BUCKET,
        predictions_key="results/a.csv",
        errors_key="results/a.csv.errors.jsonl",
        content_type="text/csv",
        part_bytes=5 * 1024 * 1024,
        gzip=gzip,
    )


def listing(s3: Any) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_publish_makes_both_objects_visible_and_describes_them(s3: Any) -> None:
    out = sink(s3)
    out.write(b"id,prediction\n", 0, ())
    out.write(b"1,0\n2,1\n", 2, [RowError(4, "bad", "x,y")])
    assert listing(s3) == []
    published = out.publish()
    assert listing(s3) == ["results/a.csv", "results/a.csv.errors.jsonl"]
    body = s3.get_object(Bucket=BUCKET, Key="results/a.csv")
    assert body["Body"].read() == b"id,prediction\n1,0\n2,1\n"
    assert body["ContentType"] == "text/csv"
    errors = s3.get_object(Bucket=BUCKET, Key="results/a.csv.errors.jsonl")["Body"].read()
    assert [orjson.loads(line) for line in errors.splitlines()] == [
        {"line": 4, "error": "bad", "input": "x,y"}
    ]
    assert published["predictions"]["rows"] == 2 and published["errors"]["rows"] == 1
    assert published["predictions"]["bytes"] == 22
    assert published["predictions"]["etag"] == body["ETag"].strip('"')


def test_gzip_predictions_are_compressed_and_errors_are_not(s3: Any) -> None:
    out = sink(s3, gzip=True)
    out.write(b"line,prediction\n1,0\n", 1, [RowError(2, "bad", "")])
    out.publish()
    stored = s3.get_object(Bucket=BUCKET, Key="results/a.csv")
    assert stored["ContentType"] == "application/gzip"
    assert gzip.decompress(stored["Body"].read()) == b"line,prediction\n1,0\n"
    assert s3.get_object(Bucket=BUCKET, Key="results/a.csv.errors.jsonl")["Body"].read()[:1] == b"{"


def test_discard_leaves_nothing_even_after_parts_were_sent(s3: Any) -> None:
    out = sink(s3)
    out.write(b"x" * (6 * 1024 * 1024), 1, ())
    out.discard()
    out.discard()
    assert listing(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
