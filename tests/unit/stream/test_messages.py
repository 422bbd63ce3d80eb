from __future__ import annotations

import base64

import pytest

from lambdaserve.stream.messages import EventKind, NotAStreamEvent, event_kind, messages

from .conftest import load_event


def test_sqs_records_keep_their_message_ids_and_bodies_in_order() -> None:
    event = load_event("sqs_predict")
    assert event_kind(event) is EventKind.SQS
    found = messages(event, EventKind.SQS)
    assert [m.message_id for m in found] == [r["messageId"] for r in event["Records"]]
    assert [m.body for m in found] == [r["body"] for r in event["Records"]]


def test_kinesis_records_are_named_by_sequence_number_and_decoded() -> None:
    event = load_event("kinesis_predict")
    assert event_kind(event) is EventKind.KINESIS
    found = messages(event, EventKind.KINESIS)
    assert [m.message_id for m in found] == [
        r["kinesis"]["sequenceNumber"] for r in event["Records"]
    ]
    assert found[0].body == base64.b64decode(event["Records"][0]["kinesis"]["data"])


def test_undecodable_kinesis_data_reads_as_an_empty_body() -> None:
    record = {"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": "1", "data": "%%%"}}
    (message,) = messages({"Records": [record]}, EventKind.KINESIS)
    assert message.body == b""


def test_an_empty_batch_has_no_kind() -> None:
    assert event_kind({"Records": []}) is None


@pytest.mark.parametrize(
    "event",
    [{}, {"Records": "x"}, {"Records": [{"eventSource": "aws:s3"}]}, {"Records": [1]}],
)
def test_other_events_are_refused(event: dict[str, object]) -> None:
    with pytest.raises(NotAStreamEvent):
        event_kind(event)
