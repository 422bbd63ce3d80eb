"""Where results go: the SQS output queue and, optionally, an EventBridge bus.

Each sink sends in the service's batch calls (10 entries, 256 KiB per call) and answers
the message ids it could not deliver. Only those are reported to Lambda for a retry; the
rest are acknowledged. A whole call refused for a reason one entry can cause (a message
over the queue's size limit) is retried entry by entry, so one bad entry fails alone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from lambdaserve.stream.results import Result

log = logging.getLogger("lambdaserve.stream")

MAX_ENTRIES = 10
MAX_CALL_BYTES = 256 * 1024
EVENT_SOURCE = "lambdaserve.stream"
# SQS errors an entry of a batch can cause on its own: worth sending entries one by one.
PER_ENTRY_ERRORS = frozenset(
    {
        "InvalidParameterValue",
        "BatchRequestTooLong",
        "InvalidMessageContents",
        "AWS.SimpleQueueService.BatchRequestTooLong",
        "AWS.SimpleQueueService.InvalidParameterValue",
    }
)

Client = Callable[[], Any]


class Sink(Protocol):
    name: str

    def send(self, results: Sequence[Result]) -> set[str]:
        """Deliver `results` in order; the message ids that were not delivered."""
        ...


def chunks(results: Sequence[Result], size: Callable[[Result], int]) -> Iterator[list[Result]]:
    """Consecutive runs of at most 10 entries and 256 KiB, in order."""
    chunk: list[Result] = []
    total = 0
    for result in results:
        n = size(result)
        if chunk and (len(chunk) == MAX_ENTRIES or total + n > MAX_CALL_BYTES):
            yield chunk
            chunk, total = [], 0
        chunk.append(result)
        total += n
    if chunk:
        yield chunk


def attributes(result: Result) -> dict[str, dict[str, str]]:
    found = {
        "correlation_id": result.correlation_id,
        "source_message_id": result.message_id,
        "outcome": result.outcome,
    }
    if result.model:
        found["model"] = result.model
    return {k: {"DataType": "String", "StringValue": v} for k, v in found.items()}


def _attribute_bytes(result: Result) -> int:
    return sum(
        len(k) + len("String") + len(v["StringValue"].encode())
        for k, v in attributes(result).items()
    )


def _error_code(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


class SqsSink:
    """SendMessageBatch to the output queue; the correlation id rides as a message attribute."""

    name = "sqs"

    def __init__(self, queue_url: str, client: Client) -> None:
        self.queue_url = queue_url
        self._client = client

    def send(self, results: Sequence[Result]) -> set[str]:
        failed: set[str] = set()
        size = lambda r: len(r.body) + _attribute_bytes(r)  # noqa: E731
        for chunk in chunks(results, size):
            failed |= self._send_chunk(chunk)
        return failed

    def _send_chunk(self, chunk: list[Result]) -> set[str]:
        entries = [
            {"Id": str(i), "MessageBody": r.body.decode(), "MessageAttributes": attributes(r)}
            for i, r in enumerate(chunk)
        ]
        try:
            answer = self._client().send_message_batch(QueueUrl=self.queue_url, Entries=entries)
        except (ClientError, BotoCoreError) as exc:
            code = _error_code(exc)
            if code in PER_ENTRY_ERRORS and len(chunk) > 1:
                return self._send_each(chunk)
            log.error("output queue refused %d result(s): %s", len(chunk), exc)
            return {r.message_id for r in chunk}
        failed = {chunk[int(f["Id"])].message_id for f in answer.get("Failed") or []}
        for f in answer.get("Failed") or []:
            log.error("output queue refused a result: %s %s", f.get("Code"), f.get("Message"))
        return failed

    def _send_each(self, chunk: list[Result]) -> set[str]:
        failed = set()
        for r in chunk:
            try:
                self._client().send_message(
                    QueueUrl=self.queue_url,
                    MessageBody=r.body.decode(),
                    MessageAttributes=attributes(r),
                )
            except (ClientError, BotoCoreError) as exc:
                log.error("output queue refused the result of %s: %s", r.message_id, exc)
                failed.add(r.message_id)
        return failed


class EventBridgeSink:
    """PutEvents on a bus: detail = the result document, detail-type says its outcome."""

    name = "eventbridge"

    def __init__(self, bus: str, client: Client) -> None:
        self.bus = bus
        self._client = client

    @staticmethod
    def _entry(result: Result, bus: str) -> dict[str, Any]:
        return {
            "Source": EVENT_SOURCE,
            "DetailType": f"lambdaserve {result.outcome}",
            "Detail": result.body.decode(),
            "EventBusName": bus,
            "Resources": [],
        }

    def send(self, results: Sequence[Result]) -> set[str]:
        failed: set[str] = set()
        # EventBridge counts Source, DetailType, Detail and the resources toward 256 KB.
        size = lambda r: len(r.body) + len(EVENT_SOURCE) + 32  # noqa: E731
        for chunk in chunks(results, size):
            entries = [self._entry(r, self.bus) for r in chunk]
            try:
                answer = self._client().put_events(Entries=entries)
            except (ClientError, BotoCoreError) as exc:
                log.error("event bus refused %d result(s): %s", len(chunk), exc)
                failed |= {r.message_id for r in chunk}
                continue
            for r, entry in zip(chunk, answer.get("Entries") or [], strict=False):
                if entry.get("ErrorCode"):
                    log.error("event bus refused a result: %s", entry.get("ErrorMessage"))
                    failed.add(r.message_id)
        return failed
