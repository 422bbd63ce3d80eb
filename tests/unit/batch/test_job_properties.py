"""Property tests of the whole batch job on what real uploads get wrong (moto S3): random
bytes, truncated gzip, other encodings, huge lines, rows damaged at random. The job never
crashes: an unreadable input fails with its reason and publishes nothing; a readable one
reports every bad row, with its line, and predicts every other one."""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator
from typing import Any

import boto3
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.job import BatchJob
from lambdaserve.batch.source import InputRef
from lambdaserve.batch.summary import FAILED, SUCCEEDED
from lambdaserve.dataplane import DataPlane

from .conftest import BUCKET

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
HEADER = "id," + ",".join(f'"{n}"' for n in IRIS) + "\n"
COUNTER = itertools.count()
# Small blocks, so inputs of a few KB still span several blocks and a line cap is reachable.
CONFIG = BatchConfig(block_bytes=4096, parse_process=False)


@pytest.fixture(scope="module")
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_bucket(Bucket=BUCKET)
        yield client


def run(s3: Any, plane: DataPlane, suffix: str, body: bytes) -> tuple[Any, list[str]]:
    """Upload `body` under a fresh key, run the job, and list what it published."""
    key = f"incoming/iris/case{next(COUNTER)}{suffix}"
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    outcome = BatchJob(s3, plane, CONFIG).run(InputRef(BUCKET, key, etag))
    output = key.replace("incoming/", "results/", 1)
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=output)
    published = sorted(o["Key"] for o in listing.get("Contents", []))
    return outcome, [k.removeprefix(output) for k in published]


def errors(s3: Any, key: str) -> list[dict[str, Any]]:
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return [orjson.loads(line) for line in body.splitlines()]


def assert_accounted(s3: Any, outcome: Any, published: list[str]) -> None:
    """Either a failure with its reason and no results, or every row accounted for."""
    assert outcome.status in (SUCCEEDED, FAILED)
    if outcome.status == FAILED:
        assert outcome.error
        assert published in ([], [".summary.json"])
        return
    rows = outcome.rows
    assert rows.read == rows.predicted + rows.failed
    output = f"results/{outcome.key.removeprefix('incoming/')}"
    assert len(errors(s3, output + ".errors.jsonl")) == rows.failed


quick = settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


@quick
@given(body=st.binary(max_size=3000), suffix=st.sampled_from([".csv", ".jsonl", ".csv.gz"]))
def test_random_bytes_never_crash_the_job(
    s3: Any, plane: DataPlane, body: bytes, suffix: str
) -> None:
    outcome, published = run(s3, plane, suffix, body)
    assert_accounted(s3, outcome, published)


def iris_rows(count: int) -> list[str]:
    return [f"r{i},5.1,3.5,1.4,0.{i % 10}" for i in range(count)]


DAMAGE = {
    "text": lambda row: row.replace("3.5", "three"),
    "short": lambda row: row.rsplit(",", 1)[0],
    "long": lambda row: row + ",9,9",
    "empty field": lambda row: row.replace(",1.4,", ",,"),
    "not utf-8": lambda row: row.replace("5.1", "5.\udcff1"),
    "nul": lambda row: row.replace("1.4", "1\x004"),
}


@quick
@given(
    count=st.integers(1, 120),
    damaged=st.dictionaries(st.integers(0, 119), st.sampled_from(sorted(DAMAGE)), max_size=20),
    compress=st.booleans(),
)
def test_every_damaged_row_is_reported_with_its_line_and_the_rest_predicted(
    s3: Any, plane: DataPlane, count: int, damaged: dict[int, str], compress: bool
) -> None:
    rows = iris_rows(count)
    hit = {i: kind for i, kind in damaged.items() if i < count}
    for i, kind in hit.items():
        rows[i] = DAMAGE[kind](rows[i])
    body = (HEADER + "\n".join(rows) + "\n").encode("utf-8", "surrogateescape")
    outcome, _ = run(
        s3, plane, ".csv.gz" if compress else ".csv", gzip.compress(body) if compress else body
    )
    assert outcome.status == SUCCEEDED, outcome.error
    assert (outcome.rows.predicted, outcome.rows.failed) == (count - len(hit), len(hit))
    output = f"results/{outcome.key.removeprefix('incoming/')}"
    reported = {e["line"] for e in errors(s3, output + ".errors.jsonl")}
    assert reported == {i + 2 for i in hit}  # line 1 is the header


@quick
@given(cut=st.floats(0.05, 0.95))
def test_a_truncated_gzip_fails_and_publishes_nothing(
    s3: Any, plane: DataPlane, cut: float
) -> None:
    whole = gzip.compress((HEADER + "\n".join(iris_rows(2000)) + "\n").encode())
    outcome, published = run(s3, plane, ".csv.gz", whole[: int(len(whole) * cut)])
    assert outcome.status == FAILED and "gzip" in (outcome.error or "")
    assert published in ([], [".summary.json"])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "cp500"])
def test_another_encoding_fails_with_a_reason_or_reports_its_rows(
    s3: Any, plane: DataPlane, encoding: str
) -> None:
    body = (HEADER + "\n".join(iris_rows(20)) + "\n").encode(encoding)
    outcome, published = run(s3, plane, ".csv", body)
    assert outcome.status == FAILED and outcome.error
    assert published in ([], [".summary.json"])


def test_latin_1_text_in_a_passthrough_column_still_predicts(s3: Any, plane: DataPlane) -> None:
    rows = [f"caf\xe9 {i},5.1,3.5,1.4,0.2" for i in range(5)]
    body = (HEADER + "\n".join(rows) + "\n").encode("latin-1")
    outcome, published = run(s3, plane, ".csv", body)
    assert_accounted(s3, outcome, published)


@pytest.mark.parametrize("size", [10_000, 300_000])
def test_a_huge_line_is_a_row_error_or_a_clear_failure(
    s3: Any, plane: DataPlane, size: int
) -> None:
    rows = iris_rows(10)
    rows[4] = "r4," + "9" * size + ",3.5,1.4,0.2"
    outcome, published = run(s3, plane, ".csv", (HEADER + "\n".join(rows) + "\n").encode())
    assert_accounted(s3, outcome, published)
    if outcome.status == SUCCEEDED:
        assert (outcome.rows.predicted, outcome.rows.failed) == (9, 1)
