"""One invocation: every message parsed, grouped, scored and sent before Powertools' batch
processor walks the records and reports the ones that were not delivered.

Vectorized first, reported per record: the model runs once per (model, version) group and
the sinks send in batches, so by the time Powertools calls the record handler the only
thing left per record is to raise if its result was not delivered. A bad message (not
JSON, unknown model, wrong width) is answered with an error result and acknowledged:
retrying cannot fix it. A message whose result no sink took, or whose model failed for
reasons of ours, is reported in `batchItemFailures`, so Lambda retries only it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import LambdaserveError
from lambdaserve.stream import request, results, scoring
from lambdaserve.stream.grouping import Groups, Member, Resolver
from lambdaserve.stream.messages import EventKind, Message, event_kind, messages
from lambdaserve.stream.results import Result
from lambdaserve.stream.sinks import Sink

log = logging.getLogger("lambdaserve.stream")


class NotDelivered(RuntimeError):
    """Raised for a record whose result did not reach every sink: Powertools reports it."""


@dataclass(frozen=True)
class StreamConfig:
    max_rows: int = 10_000  # rows one message may carry
    max_result_bytes: int = 256 * 1024  # largest result one output message may carry


@dataclass(frozen=True)
class Outcome:
    """What one invocation did: the results in event order, and the ids to retry."""

    results: list[Result]
    failed: set[str]


class StreamProcessor:
    def __init__(
        self, plane: DataPlane, sinks: Sequence[Sink], config: StreamConfig | None = None
    ) -> None:
        self.plane = plane
        self.sinks = tuple(sinks)
        self.config = config or StreamConfig()

    def results(self, batch: Sequence[Message]) -> tuple[list[Result], set[str]]:
        """Every message's result in event order, and the ids that must be retried."""
        docs: list[dict[str, Any] | None] = [None] * len(batch)
        groups = Groups(Resolver(self.plane))
        parse, route, slot, row_list = (
            request.parse_body,
            request.route,
            groups.slot,
            request.row_list,
        )
        max_rows = self.config.max_rows
        for index, message in enumerate(batch):  # the per-message loop: keep it lean
            doc = group = None
            try:
                doc = parse(message.body)
                routed = route(doc)
                group, manifest = slot(routed.model, routed.version)
                rows = row_list(routed, manifest, max_rows)
            except LambdaserveError as exc:
                version = group.version if group is not None else None
                docs[index] = _refused(message, doc, version, exc)
                continue
            group.members.append(
                Member(index, message.message_id, routed.caller_id, rows, routed.single)
            )
        retry: set[str] = set()
        for group in groups:
            for member, doc in zip(group.members, scoring.score(self.plane, group), strict=True):
                if doc is None:
                    retry.add(member.message_id)
                else:
                    docs[member.index] = doc
        limit = self.config.max_result_bytes
        encode = results.encode
        encoded = [encode(d, limit) for d in docs if d is not None]
        return encoded, retry

    def process(self, batch: Sequence[Message]) -> Outcome:
        """Score and send; the ids whose results did not reach every sink."""
        encoded, failed = self.results(batch)
        for sink in self.sinks:
            failed |= sink.send(encoded)
        if failed:
            log.warning("%d of %d message(s) will be retried", len(failed), len(batch))
        return Outcome(encoded, failed)

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """The Lambda handler's work: `{"batchItemFailures": [...]}` via Powertools."""
        kind = event_kind(event)
        if kind is None:
            return {"batchItemFailures": []}
        outcome = self.process(messages(event, kind))
        return report(dict(event), kind, outcome.failed, context)


def _refused(
    message: Message, doc: dict[str, Any] | None, version: str | None, exc: LambdaserveError
) -> dict[str, Any]:
    """The error result of a message refused before scoring; its id and model echoed if read."""
    cid = model = None
    if doc is not None:
        cid = request.caller_id(doc)
        named = doc.get("model")
        model = named if isinstance(named, str) else None
    return results.failure(message.message_id, cid, model, exc, version)


def report(
    event: dict[str, Any], kind: EventKind, failed: set[str], context: Any
) -> dict[str, Any]:
    """Powertools' partial batch response: its record handler raises for undelivered ids."""
    from aws_lambda_powertools.utilities.batch import process_partial_response

    processor = batch_processor(kind)
    if not failed:  # the usual case: every record is acknowledged, no id needs looking up
        return dict(process_partial_response(event, _delivered, processor, context))
    if kind is EventKind.SQS:

        def record_id(record: Any) -> str:
            return str(record.message_id)
    else:

        def record_id(record: Any) -> str:
            return str(record.kinesis.sequence_number)

    def record_handler(record: Any) -> None:
        ident = record_id(record)
        if ident in failed:
            raise NotDelivered(f"the result of {ident} was not delivered; Lambda retries it")

    return dict(process_partial_response(event, record_handler, processor, context))


@cache
def batch_processor(kind: EventKind) -> Any:
    """One Powertools processor per event source, made once (it resets on every use)."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    if kind is EventKind.SQS:
        return BatchProcessor(event_type=EventType.SQS)
    return BatchProcessor(event_type=EventType.KinesisDataStreams)


def _delivered(record: Any) -> None:
    """The record handler when every result was delivered: nothing to raise."""
