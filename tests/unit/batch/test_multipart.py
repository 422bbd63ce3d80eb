from __future__ import annotations

import gzip
import os
import threading
from typing import Any

import pytest

from lambdaserve.batch.multipart import MIN_PART_BYTES, S3Upload

from .conftest import BUCKET


def upload(s3: Any, key: str = "results/x", **kw: Any) -> S3Upload:
    return S3Upload(s3, BUCKET, key, part_bytes=MIN_PART_BYTES, content_type="text/csv", **kw)


def test_small_output_is_one_put(s3: Any) -> None:
    up = upload(s3)
    up.write(b"a,b\n")
    up.write(b"1,2\n")
    etag = up.complete()
    got = s3.get_object(Bucket=BUCKET, Key="results/x")
    assert got["Body"].read() == b"a,b\n1,2\n" and got["ETag"].strip('"') == etag


def test_large_output_is_multipart_and_invisible_until_complete(s3: Any) -> None:
    data = os.urandom(MIN_PART_BYTES * 2 + 123)
    up = upload(s3)
    for i in range(0, len(data), 1 << 20):
        up.write(data[i : i + (1 << 20)])
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert len(s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]) == 1
    up.complete()
    assert s3.get_object(Bucket=BUCKET, Key="results/x")["Body"].read() == data
    assert up.bytes_out == len(data) and up.etag and up.etag.endswith("-3")


def test_abort_leaves_nothing(s3: Any) -> None:
    up = upload(s3)
    up.write(os.urandom(MIN_PART_BYTES + 1))
    up.abort()
    up.abort()
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_gzip_output_is_deterministic(s3: Any) -> None:
    etags = []
    for key in ("results/a.gz", "results/b.gz"):
        up = upload(s3, key, gzip=True)
        up.write(b"x,y\n" * 1000)
        etags.append(up.complete())
    assert etags[0] == etags[1]
    body = s3.get_object(Bucket=BUCKET, Key="results/a.gz")["Body"].read()
    assert gzip.decompress(body) == b"x,y\n" * 1000


def test_part_size_below_the_s3_minimum_is_refused(s3: Any) -> None:
    with pytest.raises(ValueError, match="at least"):
        S3Upload(s3, BUCKET, "k", part_bytes=1024, content_type="text/csv")


class FailingParts:
    """The real moto client, but part `fail_at` cannot be uploaded; records who sends."""

    def __init__(self, s3: Any, fail_at: int) -> None:
        self.s3, self.fail_at, self.senders = s3, fail_at, []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s3, name)

    def upload_part(self, **kwargs: Any) -> Any:
        self.senders.append(threading.current_thread().name)
        if kwargs["PartNumber"] == self.fail_at:
            raise ConnectionError("injected: part upload failed")
        return self.s3.upload_part(**kwargs)


@pytest.mark.parametrize("fail_at", [1, 2])
def test_a_failed_background_part_is_raised_and_abort_leaves_nothing(s3: Any, fail_at: int) -> None:
    client = FailingParts(s3, fail_at)
    up = S3Upload(client, BUCKET, "results/x", part_bytes=MIN_PART_BYTES, content_type="text/csv")
    chunk = os.urandom(1 << 20)
    with pytest.raises(ConnectionError, match="injected"):
        for _ in range(3 * MIN_PART_BYTES // len(chunk)):
            up.write(chunk)
        up.complete()
    up.abort()
    assert client.senders and all(name.startswith("s3-part") for name in client.senders)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
