"""Fan-out end to end against moto: dispatch, every shard, compose, cleanup.

The state machine's steps are called here in its order (the local executor runs the real
definition in tests/unit/local); what is checked is what a user sees: the outputs are
byte for byte the single-function path's, a failure publishes nothing and names its
shard, a repeated event does nothing.
"""

from __future__ import annotations

import json
import random
from typing import Any

import boto3
import orjson
import pytest
from botocore.exceptions import ClientError

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.dispatch import Dispatcher
from lambdaserve.batch.job import BatchJob
from lambdaserve.batch.manifest import FanoutJob
from lambdaserve.batch.publish import abandon_job, compose_job
from lambdaserve.batch.shard_worker import ShardFailed, run_shard
from lambdaserve.batch.shards import Shard
from lambdaserve.batch.source import InputRef
from lambdaserve.batch.summary import DISPATCHED, FAILED, SKIPPED, SUCCEEDED
from lambdaserve.dataplane import DataPlane
from lambdaserve.settings import Settings

from .conftest import BUCKET

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
CONFIG = BatchConfig(block_bytes=4096, first_block_bytes=512)


@pytest.fixture
def machine(s3: Any) -> str:
    sfn = boto3.client("stepfunctions")
    created = sfn.create_state_machine(
        name="lambdaserve-batch-fanout",
        definition=json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/sfn",
    )
    return str(created["stateMachineArn"])


def settings(machine: str, **overrides: Any) -> Settings:
    base = {
        "batch_fanout_bytes": 1000,
        "batch_shard_bytes": 700,
        "batch_state_machine": machine,
    }
    return Settings(**{**base, **overrides})


def put(s3: Any, key: str, body: bytes) -> InputRef:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    return InputRef(BUCKET, key, etag)


def get(s3: Any, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def listing(s3: Any, prefix: str) -> list[str]:
    return sorted(
        o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix).get("Contents", [])
    )


def dispatcher(s3: Any, plane: DataPlane, machine: str, **overrides: Any) -> Dispatcher:
    return Dispatcher(
        s3, lambda: boto3.client("stepfunctions"), plane, settings(machine, **overrides)
    )


def started_job(machine: str) -> FanoutJob:
    sfn = boto3.client("stepfunctions")
    executions = sfn.list_executions(stateMachineArn=machine)["executions"]
    assert len(executions) == 1
    described = sfn.describe_execution(executionArn=executions[0]["executionArn"])
    return FanoutJob.from_json(json.loads(described["input"])["job"])


def shards_of(s3: Any, job: FanoutJob) -> list[Shard]:
    return [Shard.from_json(item) for item in orjson.loads(get(s3, job.manifest_key))]


def fan_out(
    s3: Any, plane: DataPlane, machine: str, ref: InputRef
) -> tuple[FanoutJob, list[Shard]]:
    """Dispatch, then the Map (every shard) and the compose step, as the state machine does."""
    result = dispatcher(s3, plane, machine).dispatch(ref)
    assert result is not None and result.status == DISPATCHED, result
    job = started_job(machine)
    shards = shards_of(s3, job)
    for shard in shards:
        run_shard(s3, plane, CONFIG, job, shard)
    assert compose_job(s3, job).status == SUCCEEDED
    return job, shards


def single(s3: Any, plane: DataPlane, ref: InputRef) -> tuple[bytes, bytes]:
    """The single-function path's outputs; its summary removed so fan-out runs after it."""
    assert BatchJob(s3, plane, CONFIG).run(ref).status == SUCCEEDED
    out = ref.key.replace("incoming/", "results/", 1)
    outputs = get(s3, out), get(s3, out + ".errors.jsonl")
    for key in (out, out + ".errors.jsonl", out + ".summary.json"):
        s3.delete_object(Bucket=BUCKET, Key=key)
    return outputs


def iris_rows(count: int, seed: int = 1, bad_every: int = 0, quoted: bool = False) -> list[str]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        values = [f"{rng.uniform(0.1, 8):.2f}" for _ in IRIS]
        if bad_every and i % bad_every == 3:
            values[1] = "oops"
        note = f'"note {i}\nsecond line, with ""quotes"""' if quoted and i % 7 == 0 else f"n{i}"
        rows.append(f"r{i},{','.join(values)},{note}")
    return rows


CASES = {
    "csv-passthrough": (
        "incoming/iris/day.csv",
        ("id," + ",".join(f'"{n}"' for n in IRIS) + ",note\n").encode()
        + "\n".join(iris_rows(300, bad_every=11)).encode()
        + b"\n",
    ),
    "csv-quoted-multiline-crlf": (
        "incoming/iris/quoted.csv",
        ("id," + ",".join(f'"{n}"' for n in IRIS) + ",note\r\n").encode()
        + "\r\n".join(iris_rows(300, quoted=True)).encode(),  # no trailing newline
    ),
    "csv-headerless-line-column": (
        "incoming/iris/raw.csv",
        "\n".join(",".join(r.split(",")[1:5]) for r in iris_rows(400, bad_every=13)).encode()
        + b"\n\n",
    ),
    "jsonl": (
        "incoming/iris/v1/rows.jsonl",
        b"".join(
            orjson.dumps(
                dict(zip(["id", *IRIS], [f"r{i}", *map(float, r.split(",")[1:5])], strict=True))
            )
            + b"\n"
            if i % 9 != 4
            else b'{"broken": \n'
            for i, r in enumerate(iris_rows(300))
        ),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_output_is_byte_for_byte_the_single_paths(
    s3: Any, plane: DataPlane, machine: str, case: str
) -> None:
    key, body = CASES[case]
    ref = put(s3, key, body)
    expected = single(s3, plane, ref)
    job, _ = fan_out(s3, plane, machine, ref)
    assert job.shards > 5
    out = key.replace("incoming/", "results/", 1)
    assert (get(s3, out), get(s3, out + ".errors.jsonl")) == expected
    summary = orjson.loads(get(s3, out + ".summary.json"))
    assert summary["status"] == SUCCEEDED
    assert summary["fanout"]["shards"] == job.shards
    assert len(summary["fanout"]["shard_seconds"]["each"]) == job.shards
    assert summary["fanout"]["cost_estimate"]["total_usd"] > 0
    assert summary["outputs"]["predictions"]["bytes"] == len(expected[0])
    assert listing(s3, "fanout/") == []  # work objects removed


def test_a_shard_with_only_bad_rows(s3: Any, plane: DataPlane, machine: str) -> None:
    header = ("id," + ",".join(IRIS) + "\n").encode()
    good = "\n".join(",".join(r.split(",")[:5]) for r in iris_rows(40)).encode() + b"\n"
    bad = b"".join(b"b%d,x,y,z,w\n" % i for i in range(150))
    ref = put(s3, "incoming/iris/bad-middle.csv", header + good + bad + good)
    expected = single(s3, plane, ref)
    job, shards = fan_out(s3, plane, machine, ref)
    assert get(s3, "results/iris/bad-middle.csv") == expected[0]
    assert get(s3, "results/iris/bad-middle.csv.errors.jsonl") == expected[1]
    lines = [orjson.loads(x)["line"] for x in expected[1].splitlines()]
    assert lines == list(range(42, 192))  # the input's line numbers
    summary = orjson.loads(get(s3, "results/iris/bad-middle.csv.summary.json"))
    assert summary["rows"] == {"read": 230, "predicted": 80, "failed": 150, "blank_lines": 0}
    bad_start = len(header) + len(good)
    assert any(bad_start <= s.start and s.end <= bad_start + len(bad) for s in shards)
    assert summary["fanout"]["shards"] == job.shards


def test_a_failing_shard_publishes_nothing_and_is_named(
    s3: Any, plane: DataPlane, machine: str
) -> None:
    header = ("id," + ",".join(IRIS) + "\n").encode()
    rows = "\n".join(iris_rows(200)).encode() + b"\n"
    ref = put(s3, "incoming/iris/fails.csv", header + rows)
    # An earlier version's results must not survive a failed run.
    s3.put_object(Bucket=BUCKET, Key="results/iris/fails.csv", Body=b"old")
    assert dispatcher(s3, plane, machine).dispatch(ref).status == DISPATCHED  # type: ignore[union-attr]
    job = started_job(machine)
    shards = shards_of(s3, job)
    run_shard(s3, plane, CONFIG, job, shards[0])
    # The model version disappears under shard 1 (e.g. a bad deployment).
    broken = FanoutJob.from_json({**job.to_json(), "model_version": "99"})
    with pytest.raises(ShardFailed):
        run_shard(s3, plane, CONFIG, broken, shards[1])
    summary = abandon_job(s3, job, {"Error": "ShardFailed", "Cause": "{}"})
    assert summary.status == FAILED
    assert summary.error is not None and summary.error.startswith(
        f"shard 1 of {job.shards} (bytes "
    )
    assert "99" in summary.error
    assert listing(s3, "results/") == ["results/iris/fails.csv.summary.json"]
    assert orjson.loads(get(s3, "results/iris/fails.csv.summary.json"))["status"] == FAILED
    assert listing(s3, "fanout/") == []
    assert not s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads")


def test_abandon_without_a_shard_record_names_the_executions_error(
    s3: Any, plane: DataPlane, machine: str
) -> None:
    ref = put(
        s3,
        "incoming/iris/t.csv",
        ("id," + ",".join(IRIS) + "\n").encode() + "\n".join(iris_rows(100)).encode(),
    )
    dispatcher(s3, plane, machine).dispatch(ref)
    job = started_job(machine)
    cause = json.dumps({"errorMessage": "Task timed out after 900.00 seconds"})
    summary = abandon_job(s3, job, {"Error": "Sandbox.Timedout", "Cause": cause})
    assert (
        summary.error
        == "the fan-out execution failed: Sandbox.Timedout: Task timed out after 900.00 seconds"
    )


def test_repeated_event_is_a_no_op(s3: Any, plane: DataPlane, machine: str) -> None:
    key, body = CASES["csv-passthrough"]
    ref = put(s3, key, body)
    fan_out(s3, plane, machine, ref)
    before = s3.head_object(Bucket=BUCKET, Key="results/iris/day.csv")["ETag"]
    again = dispatcher(s3, plane, machine).dispatch(ref)
    assert (
        again is not None and again.status == SKIPPED and "already processed" in (again.note or "")
    )
    # While the execution runs (no summary yet), the execution itself is found.
    s3.delete_object(Bucket=BUCKET, Key="results/iris/day.csv.summary.json")
    running = dispatcher(s3, plane, machine).dispatch(ref)
    assert running is not None and running.status == SKIPPED and "execution" in (running.note or "")
    assert s3.head_object(Bucket=BUCKET, Key="results/iris/day.csv")["ETag"] == before


def test_small_files_and_no_state_machine_take_the_single_path(
    s3: Any, plane: DataPlane, machine: str
) -> None:
    key, body = CASES["csv-passthrough"]
    ref = put(s3, key, body)
    assert dispatcher(s3, plane, machine, batch_fanout_bytes=len(body)).dispatch(ref) is None
    assert dispatcher(s3, plane, machine, batch_state_machine="").dispatch(ref) is None


def test_large_gzip_is_refused_with_a_summary(s3: Any, plane: DataPlane, machine: str) -> None:
    ref = put(s3, "incoming/iris/big.csv.gz", b"\x1f\x8b" + b"x" * 5000)
    s3.put_object(Bucket=BUCKET, Key="results/iris/big.csv.gz", Body=b"old")
    summary = dispatcher(s3, plane, machine, batch_gzip_max_bytes=4000).dispatch(ref)
    assert summary is not None and summary.status == FAILED
    assert "upload it uncompressed" in (summary.error or "").lower()
    written = orjson.loads(get(s3, "results/iris/big.csv.gz.summary.json"))
    assert written["status"] == FAILED and "pre-split" in written["error"]
    assert listing(s3, "results/") == ["results/iris/big.csv.gz.summary.json"]
    small = dispatcher(s3, plane, machine, batch_gzip_max_bytes=10_000).dispatch(ref)
    assert small is None  # below the limit: the single path reads it


def test_a_replaced_input_is_not_published(s3: Any, plane: DataPlane, machine: str) -> None:
    key, body = CASES["csv-passthrough"]
    ref = put(s3, key, body)
    dispatcher(s3, plane, machine).dispatch(ref)
    job = started_job(machine)
    for shard in shards_of(s3, job):
        run_shard(s3, plane, CONFIG, job, shard)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body + b"r9,1,2,3,4,x\n")
    result = compose_job(s3, job)
    assert result.status == SKIPPED and "replaced" in (result.note or "")
    assert listing(s3, "results/") == [] and listing(s3, "fanout/") == []


def test_a_shard_of_a_replaced_input_fails(s3: Any, plane: DataPlane, machine: str) -> None:
    key, body = CASES["csv-passthrough"]
    ref = put(s3, key, body)
    dispatcher(s3, plane, machine).dispatch(ref)
    job = started_job(machine)
    s3.put_object(Bucket=BUCKET, Key=key, Body=b"id\n")
    with pytest.raises(ShardFailed, match="replaced"):
        run_shard(s3, plane, CONFIG, job, shards_of(s3, job)[2])
    with pytest.raises(ClientError):
        get(s3, job.part_key(2, "predictions"))
