"""The StreamPredict Lambda handler, loaded with the environment template.yaml gives it and
driven by the SQS and Kinesis events in events/stream/, against moto's SQS server on
loopback (endpoint from AWS_ENDPOINT_URL_SQS, as the local runtime sets it)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from lambda_functions import FunctionSpec, environment, load_handler

ROOT = Path(__file__).resolve().parents[2]
IRIS = [5.1, 3.5, 1.4, 0.2]


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "stream" / f"{name}.json").read_text())
    return event


@pytest.fixture(scope="module")
def aws(moto_endpoint: str) -> Iterator[None]:
    values = {
        "AWS_ENDPOINT_URL_SQS": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    with environment(values):
        yield


@pytest.fixture(scope="module")
def stream(function_specs: dict[str, FunctionSpec], aws: None) -> tuple[Any, str]:
    """The real handler, and the output queue's name as the template names it."""
    spec = function_specs["StreamPredictFunction"]
    handler, _ = load_handler(spec)
    return handler, spec.environment["LAMBDASERVE_STREAM_OUTPUT_QUEUE"].rsplit("/", 1)[1]


@pytest.fixture
def output(stream: tuple[Any, str], request: pytest.FixtureRequest) -> Iterator[tuple[Any, str]]:
    """The output queue, fresh per test (parametrize indirectly with its attributes)."""
    sqs = boto3.client("sqs")
    attributes = getattr(request, "param", {})
    url: str = sqs.create_queue(QueueName=stream[1], Attributes=attributes)["QueueUrl"]
    yield sqs, url
    sqs.delete_queue(QueueUrl=url)


def results(sqs: Any, url: str) -> list[tuple[dict[str, Any], dict[str, str]]]:
    found = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return found
        for m in got:
            attributes = {k: v["StringValue"] for k, v in m["MessageAttributes"].items()}
            found.append((orjson.loads(m["Body"]), attributes))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_a_valid_batch_is_answered_in_order_with_ids(
    stream: tuple[Any, str], output: tuple[Any, str]
) -> None:
    handler, _ = stream
    event = load_event("sqs_predict")
    assert handler(event, None) == {"batchItemFailures": []}
    got = results(*output)
    bodies = [json.loads(r["body"]) for r in event["Records"]]
    assert [doc["message_id"] for doc, _ in got] == [r["messageId"] for r in event["Records"]]
    assert [doc["id"] for doc, _ in got] == [str(b["id"]) for b in bodies]
    assert [doc["model"] for doc, _ in got] == [b["model"] for b in bodies]
    assert all("error" not in doc for doc, _ in got)
    assert [attrs["correlation_id"] for _, attrs in got] == [str(b["id"]) for b in bodies]
    assert got[0][0]["label"] == "setosa"
    assert len(got[1][0]["predictions"]) == 2


def test_a_mixed_batch_acknowledges_bad_messages_with_error_results(
    stream: tuple[Any, str], output: tuple[Any, str]
) -> None:
    handler, _ = stream
    event = load_event("sqs_predict_mixed")
    assert handler(event, None) == {"batchItemFailures": []}
    got = results(*output)
    assert [doc["message_id"] for doc, _ in got] == [r["messageId"] for r in event["Records"]]
    assert [attrs["outcome"] for _, attrs in got] == [
        "prediction",
        "error",
        "error",
        "error",
        "error",
        "error",
        "prediction",
    ]
    errors = [doc["error"] for doc, _ in got if "error" in doc]
    assert "not valid JSON" in errors[0]
    assert "not found" in errors[1]
    assert "expects 4 features" in errors[2]
    assert "numbers" in errors[3]
    assert "no version or label '9'" in errors[4]
    assert all("Traceback" not in e for e in errors)


def test_kinesis_records_are_answered_by_sequence_number(
    stream: tuple[Any, str], output: tuple[Any, str]
) -> None:
    handler, _ = stream
    event = load_event("kinesis_predict")
    assert handler(event, None) == {"batchItemFailures": []}
    got = results(*output)
    sequence = [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
    assert [doc["message_id"] for doc, _ in got] == sequence
    assert "error" in got[-1][0] and "error" not in got[0][0]


@pytest.mark.parametrize("output", [{"MaximumMessageSize": "1024"}], indirect=True)
def test_a_failing_output_reports_exactly_the_affected_messages(
    stream: tuple[Any, str], output: tuple[Any, str]
) -> None:
    handler, _ = stream
    event = copy.deepcopy(load_event("sqs_predict"))
    big = {"model": "iris", "id": "big", "instances": [IRIS] * 20}  # its result > 1 KiB
    for index in (2, 4):
        event["Records"][index]["body"] = json.dumps(big)
    answer = handler(event, None)
    ids = [r["messageId"] for r in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": ids[2]}, {"itemIdentifier": ids[4]}]}
    got = results(*output)
    assert [doc["message_id"] for doc, _ in got] == [
        i for n, i in enumerate(ids) if n not in (2, 4)
    ]


def test_an_unreachable_output_fails_the_batch_for_a_retry(stream: tuple[Any, str]) -> None:
    handler, _ = stream  # no output queue exists: every send fails
    with pytest.raises(BatchProcessingError):
        handler(load_event("sqs_predict"), None)
