"""S3 failing under a running job (moto, errors injected at each S3 call the job makes):
no partial output is ever published, no multipart upload is left open, and the repeated
event (S3's retry, or the DLQ's redrive) then does the whole work once."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaserve.batch.summary import FAILED, SKIPPED, SUCCEEDED
from lambdaserve.dataplane import DataPlane

from .conftest import BUCKET
from .test_job import IRIS, get, keys, put, run, summary

# Wide passthrough: the output spans several 5 MiB multipart parts.
LINES = [f"{i},{'x' * 400},5.1,3.5,1.4,0.2" for i in range(14_000)]
BODY = ("id,filler," + ",".join(IRIS) + "\n" + "\n".join(LINES) + "\n").encode()


class Injected:
    """Fails the `nth` call of one S3 operation with an S3 error response."""

    def __init__(self, operation: str, nth: int = 1) -> None:
        self.operation, self.nth, self.seen = operation, nth, 0

    def __call__(self, **kwargs: Any) -> None:
        self.seen += 1
        if self.seen == self.nth:
            error = {"Error": {"Code": "InternalError", "Message": "injected S3 failure"}}
            raise ClientError(error, self.operation)  # type: ignore[arg-type]


def inject(s3: Any, operation: str, nth: int = 1) -> Injected:
    injected = Injected(operation, nth)
    s3.meta.events.register(f"before-call.s3.{operation}", injected)
    return injected


def published(s3: Any) -> list[str]:
    return [k for k in keys(s3) if not k.endswith(".summary.json")]


@pytest.mark.parametrize(
    ("operation", "nth"),
    [
        ("GetObject", 1),
        ("CreateMultipartUpload", 1),
        ("UploadPart", 2),
        ("CompleteMultipartUpload", 1),
    ],
)
def test_an_s3_error_mid_job_publishes_nothing_and_the_retry_does_it_once(
    s3: Any, plane: DataPlane, operation: str, nth: int
) -> None:
    ref = put(s3, "incoming/iris/big.csv", BODY)
    injected = inject(s3, operation, nth)
    try:
        outcome = run(s3, plane, ref, block_bytes=1 << 20, part_bytes=5 << 20)
    except ClientError as exc:
        assert "injected S3 failure" in str(exc)
    else:
        assert outcome.status == FAILED, outcome
    assert injected.seen >= nth  # the failure did happen where it was meant to
    assert published(s3) == []
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    if "results/iris/big.csv.summary.json" in keys(s3):  # failing before it, none is written
        assert summary(s3, "results/iris/big.csv")["status"] == FAILED
    s3.meta.events.unregister(f"before-call.s3.{operation}", injected)

    retried = run(s3, plane, ref, block_bytes=1 << 20, part_bytes=5 << 20)
    assert retried.status == SUCCEEDED
    assert published(s3) == ["results/iris/big.csv", "results/iris/big.csv.errors.jsonl"]
    assert len(get(s3, "results/iris/big.csv").splitlines()) == len(LINES) + 1
    again = run(s3, plane, ref, block_bytes=1 << 20, part_bytes=5 << 20)
    assert again.status == SKIPPED  # the same event a third time: nothing redone


@pytest.mark.parametrize("nth", [1, 2])
def test_a_small_job_whose_put_fails_publishes_nothing(s3: Any, plane: DataPlane, nth: int) -> None:
    """Outputs under one part go up with PutObject, predictions after errors: either failing
    leaves no predictions object (a summary may record the failure)."""
    ref = put(s3, "incoming/iris/a.csv", BODY[:4000].rsplit(b"\n", 1)[0] + b"\n")
    injected = inject(s3, "PutObject", nth)
    try:
        outcome = run(s3, plane, ref)
    except ClientError:
        outcome = None
    assert injected.seen >= nth
    assert outcome is None or outcome.status == FAILED
    assert "results/iris/a.csv" not in published(s3)
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
