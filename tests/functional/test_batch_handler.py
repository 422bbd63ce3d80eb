"""The BatchPredict Lambda handler, driven by the S3 events in events/, against a moto
S3 server on loopback (real HTTP, endpoint from AWS_ENDPOINT_URL_S3 as in the local runtime).

The sample inputs live here; each event's eTag is their MD5, so the events are exactly
what S3 would send for these uploads (regenerate both together).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import boto3
import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUCKET = "lambdaserve-batch-local"  # the local runtime's name for BatchBucket
IRIS = "sepal length (cm),sepal width (cm),petal length (cm),petal width (cm)"
_CSV = (
    f"id,{IRIS}\nf1,5.1,3.5,1.4,0.2\nf2,6.4,2.9,4.3,1.3\nf3,5.9,3.0,5.1,1.8\nf4,oops,3.0,5.1,1.8\n"
)
_JSONL = (
    '{"id": "f1", "sepal length (cm)": 5.1, "sepal width (cm)": 3.5, '
    '"petal length (cm)": 1.4, "petal width (cm)": 0.2}\n[6.4, 2.9, 4.3, 1.3]\n'
)
SAMPLES: dict[str, tuple[str, bytes]] = {
    "s3_put_csv": ("incoming/iris/samples/flowers.csv", _CSV.encode()),
    "s3_put_jsonl": ("incoming/iris/samples/flowers.jsonl", _JSONL.encode()),
    "s3_put_csv_gz": (
        "incoming/iris/v1/samples/flowers.csv.gz",
        gzip.compress(_CSV.encode(), mtime=0),
    ),
    "s3_put_encoded_key": ("incoming/iris/daily report/café + more.csv", _CSV.encode()),
}


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / f"{name}.json").read_text())
    return event


@pytest.fixture
def s3(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    client = boto3.client("s3")
    client.create_bucket(Bucket=BUCKET)
    yield client
    for obj in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=obj["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def app(s3: Any) -> ModuleType:
    """functions/batch_predict/app.py, imported fresh (its S3 client picks up the endpoint)."""
    spec = importlib.util.spec_from_file_location(
        "batch_predict_app", ROOT / "functions" / "batch_predict" / "app.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop("batch_predict_app", None)
    spec.loader.exec_module(module)
    return module


def context() -> Any:
    return SimpleNamespace(aws_request_id="req-1", get_remaining_time_in_millis=lambda: 900_000)


def results(s3: Any) -> dict[str, bytes]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix="results/").get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listing}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_events_match_their_sample_inputs(name: str) -> None:
    key, body = SAMPLES[name]
    obj = load_event(name)["Records"][0]["s3"]["object"]
    assert obj["eTag"] == hashlib.md5(body).hexdigest() and obj["size"] == len(body)
    assert obj["key"] != key or " " not in key  # encoded as S3 encodes it


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_event_produces_results(app: ModuleType, s3: Any, name: str) -> None:
    key, body = SAMPLES[name]
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    response = app.handler(load_event(name), context())
    assert response["processed"] == [{"key": key, "status": "succeeded", "note": None}]
    output = "results/" + key[len("incoming/") :]
    found = results(s3)
    assert sorted(found) == sorted([output, output + ".errors.jsonl", output + ".summary.json"])
    summary = orjson.loads(found[output + ".summary.json"])
    assert summary["status"] == "succeeded" and summary["request_id"] == "req-1"
    predictions = found[output]
    if key.endswith(".gz"):
        predictions = gzip.decompress(predictions)
    if ".csv" in key:
        lines = predictions.decode().splitlines()
        assert lines[0] == "id,prediction,probability,label"
        assert [line.split(",")[-1] for line in lines[1:]] == ["setosa", "versicolor", "virginica"]
        (error,) = [orjson.loads(e) for e in found[output + ".errors.jsonl"].splitlines()]
        assert error["line"] == 5 and "'sepal length (cm)' is not a number" in error["error"]
    else:
        rows = [orjson.loads(line) for line in predictions.splitlines()]
        assert [r.get("id", r.get("line")) for r in rows] == ["f1", 2]


def test_repeated_delivery_keeps_one_set_of_results(app: ModuleType, s3: Any) -> None:
    key, body = SAMPLES["s3_put_csv"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    event = load_event("s3_put_csv")
    app.handler(event, context())
    first = results(s3)
    response = app.handler(event, context())
    assert response["processed"][0]["status"] == "skipped"
    assert results(s3) == first


def test_a_bad_input_fails_its_record_without_a_retry(
    app: ModuleType, s3: Any, caplog: pytest.LogCaptureFixture
) -> None:
    key, body = SAMPLES["s3_put_csv"]
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    s3.put_object(Bucket=BUCKET, Key="incoming/unknown_model/a.csv", Body=body)
    good = load_event("s3_put_csv")["Records"][0]
    bad = json.loads(json.dumps(good))
    bad["s3"]["object"]["key"] = "incoming/unknown_model/a.csv"
    own_output = json.loads(json.dumps(good))
    own_output["s3"]["object"]["key"] = "results/iris/samples/flowers.csv"
    response = app.handler({"Records": [bad, own_output, good]}, context())
    statuses = {r["key"]: r["status"] for r in response["processed"]}
    assert statuses == {"incoming/unknown_model/a.csv": "failed", key: "succeeded"}
    assert response["skipped"] == ["output object: never processed (no recursion)"]
    assert any(r.levelname == "ERROR" and "unknown_model" in r.getMessage() for r in caplog.records)
    found = results(s3)
    assert "results/iris/samples/flowers.csv" in found
    failed = orjson.loads(found["results/unknown_model/a.csv.summary.json"])
    assert failed["status"] == "failed" and "not found" in failed["error"]
