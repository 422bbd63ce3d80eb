"""Local SQS and Kinesis event source mappings: moto's server with a template's queues and
streams, pollers delivering Lambda's event shapes to a handler and acting on its answer."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.local import template
from lambdaserve.local.sqs import LocalQueues, QueuePoller, StreamPoller, failures

TEXT = """
Parameters:
  Kinesis: {Type: String, Default: "on"}
Conditions:
  KinesisOn: !Equals [!Ref Kinesis, "on"]
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties: {Runtime: python3.12, CodeUri: ., Handler: app.handler}
  Dead:
    Type: AWS::SQS::Queue
  In:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 1
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dead.Arn, maxReceiveCount: 2}
  Feed:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt In.Arn
      BatchSize: 5
      FunctionResponseTypes: [ReportBatchItemFailures]
  Stream:
    Type: AWS::Kinesis::Stream
    Condition: KinesisOn
    Properties: {ShardCount: 1}
  StreamFeed:
    Type: AWS::Lambda::EventSourceMapping
    Condition: KinesisOn
    Properties:
      FunctionName: !Ref Fn
      EventSourceArn: !GetAtt Stream.Arn
      StartingPosition: TRIM_HORIZON
      FunctionResponseTypes: [ReportBatchItemFailures]
"""

Handler = Callable[[dict[str, Any]], dict[str, Any]]


@pytest.fixture
def tpl(tmp_path: Path) -> template.Template:
    (tmp_path / "template.yaml").write_text(TEXT)
    return template.load(tmp_path / "template.yaml")


@pytest.fixture
def queues(tpl: template.Template) -> Iterator[LocalQueues]:
    local = LocalQueues(tpl)
    yield local
    local.stop()


def invoker(handler: Handler, events: list[dict[str, Any]]) -> Any:
    def invoke(function: str, payload: bytes) -> tuple[bool, bytes]:
        event = json.loads(payload)
        events.append(event)
        return True, json.dumps(handler(event)).encode()

    return invoke


def wait(condition: Callable[[], bool], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_template_is_read_into_queues_streams_and_triggers(tpl: template.Template) -> None:
    assert tpl.queues["In"].dead_letter == "Dead" and tpl.queues["In"].max_receive_count == 2
    (queue_trigger,) = tpl.queue_triggers
    assert (queue_trigger.queue, queue_trigger.batch_size, queue_trigger.report_failures) == (
        "In",
        5,
        True,
    )
    (stream_trigger,) = tpl.stream_triggers
    assert stream_trigger.stream == "Stream" and stream_trigger.function == "Fn"


def test_the_condition_of_a_mapping_is_honoured(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEXT)
    off = template.load(tmp_path / "template.yaml", parameters={"Kinesis": "off"})
    assert off.stream_triggers == [] and off.streams == {}


def test_reported_failures_stay_and_end_in_the_dead_letter_queue(
    tpl: template.Template, queues: LocalQueues
) -> None:
    url = queues.urls["In"]
    for body in ("ok-1", "fail", "ok-2"):
        queues.sqs.send_message(QueueUrl=url, MessageBody=body)
    events: list[dict[str, Any]] = []

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "fail"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}

    poller = QueuePoller(queues, tpl.queue_triggers[0], invoker(handler, events))
    try:
        dead = queues.urls["Dead"]
        wait(
            lambda: bool(
                queues.sqs.receive_message(QueueUrl=dead, VisibilityTimeout=0).get("Messages")
            )
        )
    finally:
        poller.stop()
    record = events[0]["Records"][0]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":" + tpl.queues["In"].name)
    assert {"messageId", "receiptHandle", "body", "attributes", "md5OfBody"} <= set(record)
    delivered = [r["body"] for e in events for r in e["Records"]]
    assert delivered.count("ok-1") == 1 and delivered.count("ok-2") == 1
    assert delivered.count("fail") == 2  # maxReceiveCount, then the dead-letter queue


def test_kinesis_retries_from_the_lowest_failed_record(
    tpl: template.Template, queues: LocalQueues
) -> None:
    events: list[dict[str, Any]] = []
    failed_once: set[str] = set()

    def handler(event: dict[str, Any]) -> dict[str, Any]:
        for record in event["Records"]:
            data = base64.b64decode(record["kinesis"]["data"]).decode()
            if data == "b" and "b" not in failed_once:
                failed_once.add("b")
                return {
                    "batchItemFailures": [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]
                }
        return {"batchItemFailures": []}

    assert queues.kinesis is not None
    name = tpl.streams["Stream"]
    for data in ("a", "b", "c"):  # before the poller starts: one batch from TRIM_HORIZON
        queues.kinesis.put_record(StreamName=name, Data=data.encode(), PartitionKey="p")
    poller = StreamPoller(queues, tpl.stream_triggers[0], invoker(handler, events))
    try:
        wait(lambda: len(events) >= 2)
    finally:
        poller.stop()
    first, second = (
        [base64.b64decode(r["kinesis"]["data"]).decode() for r in e["Records"]] for e in events[:2]
    )
    assert first == ["a", "b", "c"] and second == ["b", "c"]
    assert events[0]["Records"][0]["eventSource"] == "aws:kinesis"


@pytest.mark.parametrize(
    ("ok", "payload", "report", "expected"),
    [
        (False, b"", True, None),
        (True, b'{"batchItemFailures": []}', True, set()),
        (True, b'{"batchItemFailures": [{"itemIdentifier": "m1"}]}', True, {"m1"}),
        (True, b'{"batchItemFailures": [{"itemIdentifier": ""}]}', True, None),
        (True, b'{"batchItemFailures": [{"itemIdentifier": "m1"}]}', False, set()),
        (True, b"not json", True, None),
        (True, b"null", True, set()),
    ],
)
def test_how_an_answer_is_read(
    ok: bool, payload: bytes, report: bool, expected: set[str] | None
) -> None:
    assert failures(ok, payload, report) == expected
