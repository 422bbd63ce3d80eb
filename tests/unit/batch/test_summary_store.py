"""Repeated-event detection from the summary in the bucket (moto)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from lambdaserve.batch.source import InputRef
from lambdaserve.batch.summary import FAILED, SUCCEEDED, Summary
from lambdaserve.batch.summary_store import SummaryStore

from .conftest import BUCKET

KEY = "results/iris/a.csv.summary.json"


def done(s3: Any, status: str = SUCCEEDED, etag: str = "e1") -> SummaryStore:
    s3.put_object(Bucket=BUCKET, Key="results/iris/a.csv", Body=b"out")
    out_etag = s3.head_object(Bucket=BUCKET, Key="results/iris/a.csv")["ETag"].strip('"')
    summary = Summary(BUCKET, "incoming/iris/a.csv", status=status, model="iris", etag=etag)
    summary.model_version = "1"
    summary.outputs = {"predictions": {"key": "results/iris/a.csv", "etag": out_etag}}
    store = SummaryStore(s3, BUCKET)
    store.write(KEY, summary)
    return store


def test_the_same_input_and_model_with_outputs_in_place_is_done(s3: Any) -> None:
    store = done(s3)
    assert store.already_done(KEY, InputRef(BUCKET, "incoming/iris/a.csv", "e1"), "iris", "1")


@pytest.mark.parametrize(
    ("ref", "model", "version"),
    [
        (InputRef(BUCKET, "incoming/iris/a.csv", "e2"), "iris", "1"),  # another upload
        (InputRef(BUCKET, "incoming/iris/a.csv", "e1"), "iris", "2"),  # another model version
        (InputRef(BUCKET, "incoming/iris/a.csv"), "iris", "1"),  # nothing pins the input
    ],
    ids=["other etag", "other model version", "unpinned"],
)
def test_anything_else_is_work_to_do(s3: Any, ref: InputRef, model: str, version: str) -> None:
    assert not done(s3).already_done(KEY, ref, model, version)


def test_a_failed_run_a_changed_output_or_no_summary_is_work_to_do(s3: Any) -> None:
    ref = InputRef(BUCKET, "incoming/iris/a.csv", "e1")
    assert not done(s3, status=FAILED).already_done(KEY, ref, "iris", "1")
    store = done(s3)
    s3.put_object(Bucket=BUCKET, Key="results/iris/a.csv", Body=b"changed")
    assert not store.already_done(KEY, ref, "iris", "1")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=b"not json")
    assert not store.already_done(KEY, ref, "iris", "1")
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    assert not store.already_done(KEY, ref, "iris", "1")


def test_other_s3_errors_are_raised(s3: Any) -> None:
    store = SummaryStore(s3, "no-such-bucket-here")
    with pytest.raises(ClientError):
        store.already_done(KEY, InputRef(BUCKET, "incoming/iris/a.csv", "e1"), "iris", "1")
