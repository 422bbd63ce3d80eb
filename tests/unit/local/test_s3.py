"""moto's S3 server plus the notification emulation, with a real function writing results."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.local import template
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.s3 import LocalS3, Notifier, s3_event

pytestmark = pytest.mark.slow  # moto server and function processes

HANDLER = """
import urllib.parse

import boto3



def handler(event, context):
    s3 = boto3.client("s3")  # AWS_ENDPOINT_URL_S3 points it at the local server
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key="results/" + key.split("/", 1)[1], Body=body.upper())
    return {"done": len(event["Records"])}
"""

TEMPLATE = """
Resources:
  Data:
    Type: AWS::S3::Bucket
  Upper:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: code/
      Handler: app.handler
      Timeout: 30
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Data
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules: [{Name: prefix, Value: incoming/}, {Name: suffix, Value: .csv}]
"""


def test_s3_event_record_shape() -> None:
    record = s3_event("b", "incoming/iris/my file+1.csv", 12, "abc", "eu-west-1")["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "eu-west-1"
    assert record["s3"]["bucket"] == {
        "name": "b",
        "ownerIdentity": {"principalId": "LOCAL"},
        "arn": "arn:aws:s3:::b",
    }
    # S3 URL-encodes keys in events: spaces become '+', '+' becomes %2B, '/' stays.
    assert record["s3"]["object"]["key"] == "incoming/iris/my+file%2B1.csv"
    assert record["s3"]["object"]["size"] == 12


class Deliveries:
    """The invocations the notifier made, with a wait on their count (no fixed sleeps)."""

    def __init__(self) -> None:
        self.notes: list[tuple[str, str]] = []
        self.cond = threading.Condition()

    def add(self, note: tuple[str, str]) -> None:
        with self.cond:
            self.notes.append(note)
            self.cond.notify_all()

    def wait(self, count: int, timeout: float = 120) -> list[tuple[str, str]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.notes) >= count, timeout), self.notes
            return list(self.notes)


@dataclass
class Stack:
    s3: LocalS3
    notifier: Notifier
    deliveries: Deliveries


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "app.py").write_text(HANDLER)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    tpl = template.load(tmp_path / "template.yaml", stack="test")
    s3 = LocalS3(tpl, port=0)
    runtime = LocalLambda(tpl, endpoints={"AWS_ENDPOINT_URL_S3": s3.endpoint})
    s3.client.put_object(Bucket="test-data", Key="incoming/old.csv", Body=b"old")
    deliveries = Deliveries()

    def deliver(function: str, event: dict[str, Any]) -> None:
        result = runtime.invoke(function, json.dumps(event).encode())
        deliveries.add((function, "ok" if result.ok else result.payload.decode()))

    notifier = Notifier(s3, tpl.s3_triggers, deliver, interval=0.2)
    yield Stack(s3, notifier, deliveries)
    notifier.stop()
    runtime.close()
    s3.stop()


def read(s3: LocalS3, key: str) -> bytes:
    body: bytes = s3.client.get_object(Bucket="test-data", Key=key)["Body"].read()
    return body


def test_upload_triggers_the_function_once(stack: Stack) -> None:
    s3 = stack.s3
    assert s3.endpoint.startswith("http://127.0.0.1:")
    s3.client.put_object(Bucket="test-data", Key="incoming/my file.csv", Body=b"a,b\n")
    s3.client.put_object(Bucket="test-data", Key="incoming/skip.json", Body=b"{}")
    s3.client.put_object(Bucket="test-data", Key="other/skip.csv", Body=b"x")
    assert stack.deliveries.wait(1) == [("Upper", "ok")]
    assert read(s3, "results/my file.csv") == b"A,B\n"
    assert stack.notifier.wait_scans(3)  # a few more polls: nothing else may fire
    assert stack.deliveries.notes == [("Upper", "ok")]
    keys = {o["Key"] for o in s3.client.list_objects_v2(Bucket="test-data")["Contents"]}
    assert "results/old.csv" not in keys  # objects there before start trigger nothing
    assert "results/skip.json" not in keys
    # A new version of the same key is a new ObjectCreated event.
    s3.client.put_object(Bucket="test-data", Key="incoming/my file.csv", Body=b"c,d\n")
    assert stack.deliveries.wait(2) == [("Upper", "ok"), ("Upper", "ok")]
    assert read(s3, "results/my file.csv") == b"C,D\n"


def test_busy_port_is_reported(stack: Stack) -> None:
    from lambdaserve.local.errors import LocalError

    s3 = stack.s3
    port = int(s3.endpoint.rsplit(":", 1)[1])
    with pytest.raises(LocalError, match=f"port {port} .* already in use.*--s3-port"):
        LocalS3(s3.template, port=port)
