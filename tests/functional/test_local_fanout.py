"""`lambdaserve serve` fans a large upload out over the template's own state machine.

The local Step Functions runs BatchFanout's definition from template.yaml: the batch
function dispatches, the Map scores every shard on two concurrent function instances, the
compose step publishes. The outputs must be byte for byte what the single-function path
writes for the same input (computed here in-process, on the same local S3).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from test_local_serve import start, stop

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.job import BatchJob
from lambdaserve.batch.source import InputRef
from lambdaserve.dataplane import DataPlane
from lambdaserve.local import template
from lambdaserve.model import SessionConfig
from lambdaserve.repository import ModelRepository

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess

ROOT = Path(__file__).resolve().parents[2]
IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def iris_csv(rows: int) -> bytes:
    rng = random.Random(7)
    lines = ["id," + ",".join(f'"{n}"' for n in IRIS) + ",note"]
    for i in range(rows):
        values = [f"{rng.uniform(0.1, 8):.2f}" for _ in IRIS]
        if i % 97 == 5:
            values[2] = "n/a"
        note = f'"multi\nline {i}"' if i % 50 == 0 else f"n{i}"
        lines.append(f"r{i},{','.join(values)},{note}")
    return ("\n".join(lines) + "\n").encode()


def wait_for(s3: Any, bucket: str, key: str, seconds: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            loaded: dict[str, Any] = orjson.loads(body)
            return loaded
        except s3.exceptions.NoSuchKey:
            time.sleep(0.5)
    raise AssertionError(f"no {key} within {seconds}s")


def test_large_upload_fans_out_and_matches_the_single_path(tmp_path: Path) -> None:
    tpl = template.load(ROOT / "template.yaml")
    bucket = tpl.buckets[tpl.s3_triggers[0].bucket]
    env = tmp_path / "env.json"
    small = {"LAMBDASERVE_BATCH_FANOUT_BYTES": "20000", "LAMBDASERVE_BATCH_SHARD_BYTES": "15000"}
    env.write_text(json.dumps({"BatchPredictFunction": small}))
    served = start(ROOT, tmp_path / "serve.log", "--env-vars", str(env), "--instances", "2")
    try:
        assert any(line.strip().startswith("Step Functions") for line in served.banner)
        s3: Any = served.s3_client()
        body = iris_csv(4000)
        key = "incoming/iris/big/day.csv"
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        summary = wait_for(s3, bucket, "results/iris/big/day.csv.summary.json")
        assert summary["status"] == "succeeded", summary
        assert summary["fanout"]["shards"] >= 8
        fanned = [
            s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in ("results/iris/big/day.csv", "results/iris/big/day.csv.errors.jsonl")
        ]
        leftovers = s3.list_objects_v2(Bucket=bucket, Prefix="fanout/").get("Contents", [])
        assert leftovers == []
        # The single-function path on the same object, in this process.
        s3.delete_object(Bucket=bucket, Key="results/iris/big/day.csv.summary.json")
        etag = s3.head_object(Bucket=bucket, Key=key)["ETag"].strip('"')
        plane = DataPlane(ModelRepository(ROOT / "layers" / "models"), SessionConfig())
        result = BatchJob(s3, plane, BatchConfig()).run(InputRef(bucket, key, etag))
        assert result.status == "succeeded"
        single = [
            s3.get_object(Bucket=bucket, Key=k)["Body"].read()
            for k in ("results/iris/big/day.csv", "results/iris/big/day.csv.errors.jsonl")
        ]
        assert fanned == single
        assert single[1].count(b"\n") == summary["rows"]["failed"] > 0
    finally:
        assert stop(served) == 0
    log = served.log.read_text()
    assert "Map: " in log and "SUCCEEDED" in log, log[-3000:]
