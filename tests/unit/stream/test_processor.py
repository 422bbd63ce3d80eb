from __future__ import annotations

import base64
import json
from typing import Any

import orjson
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from lambdaserve.dataplane import DataPlane
from lambdaserve.stream.processor import StreamConfig, StreamProcessor
from lambdaserve.stream.sinks import SqsSink

from .conftest import drain, load_event

IRIS = [5.1, 3.5, 1.4, 0.2]


def sqs_event(*bodies: Any) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"r{i}",
                "body": b if isinstance(b, str) else json.dumps(b),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:in",
                "awsRegion": "us-east-1",
            }
            for i, b in enumerate(bodies)
        ]
    }


def outputs(sqs: Any, url: str) -> list[dict[str, Any]]:
    return [orjson.loads(m["Body"]) for m in drain(sqs, url)]


def test_a_mixed_batch_answers_every_message_in_order(
    plane: DataPlane, sqs: Any, queue: str
) -> None:
    event = load_event("sqs_predict_mixed")
    answer = StreamProcessor(plane, [SqsSink(queue, lambda: sqs)]).handle(event)
    assert answer == {"batchItemFailures": []}
    got = outputs(sqs, queue)
    assert [g["message_id"] for g in got] == [r["messageId"] for r in event["Records"]]
    assert ["error" in g for g in got] == [False, True, True, True, True, True, False]
    assert [g["status"] for g in got if "error" in g] == [400, 404, 400, 400, 404]


def test_models_and_versions_are_grouped_into_one_call_each(
    plane: DataPlane, sqs: Any, queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, str | None, int]] = []
    real = plane.predict_block

    def counted(ctx: Any, inputs: Any) -> Any:
        calls.append((ctx.model, ctx.selected_version, len(next(iter(inputs.values())))))
        return real(ctx, inputs)

    monkeypatch.setattr(plane, "predict_block", counted)
    event = load_event("sqs_predict")
    assert StreamProcessor(plane, [SqsSink(queue, lambda: sqs)]).handle(event) == {
        "batchItemFailures": []
    }
    # iris: 3 messages, 4 rows; breast_cancer v2 (2 rows), v1 via "stable"; diabetes.
    assert sorted(calls) == [
        ("breast_cancer", "1", 1),
        ("breast_cancer", "2", 2),
        ("diabetes", "1", 1),
        ("iris", "1", 4),
    ]
    got = outputs(sqs, queue)
    assert [g["id"] for g in got] == ["order-1", "order-2", "order-3", "order-4", "5", "order-6"]
    assert [g["version"] for g in got] == ["1", "2", "1", "1", "1", "1"]


def test_only_messages_whose_results_were_refused_are_retried(plane: DataPlane, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="tiny-out", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    many = {"model": "iris", "id": "big", "instances": [IRIS] * 20}  # > 1 KiB of results
    event = sqs_event({"model": "iris", "features": IRIS}, many, "junk", many)
    try:
        answer = StreamProcessor(plane, [SqsSink(url, lambda: sqs)]).handle(event)
        assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}
        assert [g["message_id"] for g in outputs(sqs, url)] == ["m0", "m2"]
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_an_output_queue_that_is_gone_fails_the_whole_batch(plane: DataPlane, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="vanished")["QueueUrl"]
    sqs.delete_queue(QueueUrl=url)
    event = sqs_event({"model": "iris", "features": IRIS}, {"model": "iris", "features": IRIS})
    with pytest.raises(BatchProcessingError):
        StreamProcessor(plane, [SqsSink(url, lambda: sqs)]).handle(event)


def test_kinesis_records_report_failures_by_sequence_number(plane: DataPlane, sqs: Any) -> None:
    url = sqs.create_queue(QueueName="tiny-kinesis", Attributes={"MaximumMessageSize": "1024"})[
        "QueueUrl"
    ]
    docs = [{"model": "iris", "features": IRIS}, {"model": "iris", "instances": [IRIS] * 20}]
    event = {
        "Records": [
            {
                "eventSource": "aws:kinesis",
                "eventID": f"shardId-000000000000:{seq}",
                "kinesis": {
                    "sequenceNumber": seq,
                    "partitionKey": "p",
                    "data": base64.b64encode(json.dumps(doc).encode()).decode(),
                },
            }
            for seq, doc in zip(["100", "200"], docs, strict=True)
        ]
    }
    try:
        answer = StreamProcessor(plane, [SqsSink(url, lambda: sqs)]).handle(event)
        assert answer == {"batchItemFailures": [{"itemIdentifier": "200"}]}
        assert [g["message_id"] for g in outputs(sqs, url)] == ["100"]
    finally:
        sqs.delete_queue(QueueUrl=url)


def test_a_result_over_the_configured_limit_is_answered_with_an_error(
    plane: DataPlane, sqs: Any, queue: str
) -> None:
    config = StreamConfig(max_rows=100, max_result_bytes=2000)
    event = sqs_event({"model": "iris", "id": "x", "instances": [IRIS] * 50})
    processor = StreamProcessor(plane, [SqsSink(queue, lambda: sqs)], config)
    assert processor.handle(event) == {"batchItemFailures": []}
    (got,) = outputs(sqs, queue)
    assert got["status"] == 413 and got["id"] == "x"


def test_an_empty_batch_does_nothing(plane: DataPlane) -> None:
    assert StreamProcessor(plane, []).handle({"Records": []}) == {"batchItemFailures": []}


def test_the_shared_powertools_processor_starts_clean_after_a_failed_batch(
    plane: DataPlane, sqs: Any, queue: str
) -> None:
    gone = sqs.create_queue(QueueName="gone-then-back")["QueueUrl"]
    sqs.delete_queue(QueueUrl=gone)
    event = sqs_event({"model": "iris", "features": IRIS}, {"model": "iris", "features": IRIS})
    with pytest.raises(BatchProcessingError):
        StreamProcessor(plane, [SqsSink(gone, lambda: sqs)]).handle(event)
    # The next invocation (same container, same processor) reports nothing left over.
    assert StreamProcessor(plane, [SqsSink(queue, lambda: sqs)]).handle(event) == {
        "batchItemFailures": []
    }
    assert [g["message_id"] for g in outputs(sqs, queue)] == ["m0", "m1"]
