"""The records of one SQS or Kinesis event as messages: the id Lambda reports them by, the body."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any


class EventKind(Enum):
    SQS = "aws:sqs"
    KINESIS = "aws:kinesis"


@dataclass(slots=True)  # not frozen: a frozen dataclass costs ~1 us to build, per message
class Message:
    # SQS messageId or Kinesis sequenceNumber: what `batchItemFailures` names on failure.
    message_id: str
    # As delivered: SQS bodies are text, Kinesis data is decoded to bytes (JSON reads both).
    body: str | bytes


class NotAStreamEvent(ValueError):
    """The event is not an SQS or Kinesis batch: nothing here can process it."""


def event_kind(event: Mapping[str, Any]) -> EventKind | None:
    """The event's source, from its first record; None for an empty batch."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise NotAStreamEvent("event has no Records list: not an SQS or Kinesis event")
    if not records:
        return None
    first = records[0]
    source = first.get("eventSource") if isinstance(first, dict) else None
    for kind in EventKind:
        if source == kind.value:
            return kind
    raise NotAStreamEvent(f"records from {source!r} are not SQS or Kinesis records")


def messages(event: Mapping[str, Any], kind: EventKind) -> list[Message]:
    """Every record of the event, in order."""
    records: list[dict[str, Any]] = event["Records"]
    if kind is EventKind.SQS:
        return [Message(str(r["messageId"]), str(r.get("body", ""))) for r in records]
    return [
        Message(str(r["kinesis"]["sequenceNumber"]), _kinesis_data(r["kinesis"].get("data", "")))
        for r in records
    ]


def _kinesis_data(data: str) -> bytes:
    # Lambda always base64-encodes record data; anything else reads as an unparsable body.
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return b""
