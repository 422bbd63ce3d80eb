from __future__ import annotations

from typing import Any

import boto3
import orjson
import pytest

from lambdaserve.stream.results import Result
from lambdaserve.stream.sinks import MAX_CALL_BYTES, EventBridgeSink, SqsSink, chunks

from .conftest import drain


def result(i: int, size: int = 10) -> Result:
    body = orjson.dumps({"id": f"c{i}", "message_id": f"m{i}", "pad": "x" * size})
    return Result(f"m{i}", f"c{i}", "prediction", "iris", body)


def test_chunks_hold_at_most_10_entries_and_256_kib_in_order() -> None:
    small = [result(i) for i in range(23)]
    assert [len(c) for c in chunks(small, lambda r: len(r.body))] == [10, 10, 3]
    big = [result(i, 100_000) for i in range(5)]
    sizes = [len(c) for c in chunks(big, lambda r: len(r.body))]
    assert sizes == [2, 2, 1]
    assert all(
        sum(len(r.body) for r in c) <= MAX_CALL_BYTES for c in chunks(big, lambda r: len(r.body))
    )
    flat = [r.message_id for c in chunks(big, lambda r: len(r.body)) for r in c]
    assert flat == [r.message_id for r in big]


def test_sqs_delivers_every_result_in_order_with_its_attributes(sqs: Any, queue: str) -> None:
    sent = [result(i) for i in range(13)]
    assert SqsSink(queue, lambda: sqs).send(sent) == set()
    got = drain(sqs, queue)
    assert [m["Body"].encode() for m in got] == [r.body for r in sent]
    attributes = {k: v["StringValue"] for k, v in got[0]["MessageAttributes"].items()}
    assert attributes == {
        "correlation_id": "c0",
        "source_message_id": "m0",
        "outcome": "prediction",
        "model": "iris",
    }


def test_only_the_results_the_queue_refuses_are_reported(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="small-out", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    sent = [result(i, 2000 if i in (3, 11) else 10) for i in range(14)]
    try:
        failed = SqsSink(url, lambda: sqs).send(sent)
        assert failed == {"m3", "m11"}
        got = [orjson.loads(m["Body"])["message_id"] for m in drain(sqs, url)]
        assert got == [r.message_id for r in sent if r.message_id not in failed]
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_missing_queue_fails_every_result(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="gone")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    sent = [result(i) for i in range(12)]
    assert SqsSink(url, lambda: sqs).send(sent) == {r.message_id for r in sent}


@pytest.fixture
def bus(sqs: Any) -> Any:
    """A bus whose every lambdaserve event lands on a queue, to read what was put."""
    events = boto3.client("events")
    events.create_event_bus(Name="predictions")
    url = sqs.create_queue(QueueName="bus-target")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(
        Name="all", EventBusName="predictions", EventPattern='{"source": ["lambdaserve.stream"]}'
    )
    events.put_targets(Rule="all", EventBusName="predictions", Targets=[{"Id": "q", "Arn": arn}])
    yield events, url
    events.remove_targets(Rule="all", EventBusName="predictions", Ids=["q"])
    events.delete_rule(Name="all", EventBusName="predictions")
    events.delete_event_bus(Name="predictions")
    sqs.delete_queue(QueueUrl=url)


def test_eventbridge_gets_each_result_as_detail(sqs: Any, bus: Any) -> None:
    events, url = bus
    sent = [result(i) for i in range(12)]
    assert EventBridgeSink("predictions", lambda: events).send(sent) == set()
    got = [orjson.loads(m["Body"]) for m in drain(sqs, url)]
    assert sorted(g["detail"]["message_id"] for g in got) == sorted(r.message_id for r in sent)
    assert {g["detail-type"] for g in got} == {"lambdaserve prediction"}
    assert {g["source"] for g in got} == {"lambdaserve.stream"}


def test_a_missing_bus_fails_every_result(sqs: Any) -> None:
    events = boto3.client("events")
    sent = [result(i) for i in range(3)]
    failed = EventBridgeSink("no-such-bus", lambda: events).send(sent)
    assert failed == {r.message_id for r in sent}
