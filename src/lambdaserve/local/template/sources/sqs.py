"""Queue and stream event sources: `Type: SQS` / `Type: Kinesis` events of a function, and
`AWS::Lambda::EventSourceMapping` resources (the template declares its mappings as such, so
a Kinesis mapping can carry a Condition), read into the same records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template.intrinsics import KINESIS_STREAM, QUEUE, Resolver
from lambdaserve.local.template.sources import EventContext, source


@dataclass(frozen=True)
class QueueTrigger:
    """An SQS queue of the template polled for `function`, as Lambda's event source mapping."""

    function: str
    queue: str  # logical id of the queue
    batch_size: int = 10
    batching_window: float = 0.0
    report_failures: bool = False  # FunctionResponseTypes has ReportBatchItemFailures


@dataclass(frozen=True)
class StreamTrigger:
    """A Kinesis data stream of the template read for `function`."""

    function: str
    stream: str  # logical id of the stream
    batch_size: int = 100
    batching_window: float = 0.0
    report_failures: bool = False
    starting_position: str = "LATEST"  # or TRIM_HORIZON: every record the shard holds


def _source_id(value: Any, where: str) -> str:
    """The logical id behind `!GetAtt X.Arn` (or `!Ref X`)."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        parts = target if isinstance(target, list) else str(target).split(".", 1)
        return str(parts[0])
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise LocalError(f"{where}: the event source must be !GetAtt <queue or stream>.Arn")


def trigger(
    function: str, source_arn: Any, props: Mapping[str, Any], resolver: Resolver, where: str
) -> QueueTrigger | StreamTrigger:
    logical_id = _source_id(source_arn, where)
    kind = (resolver.resources.get(logical_id) or {}).get("Type")
    types = resolver.resolve(props.get("FunctionResponseTypes") or [], where)
    report = "ReportBatchItemFailures" in types
    window = float(resolver.resolve(props.get("MaximumBatchingWindowInSeconds", 0), where))
    if kind == QUEUE:
        size = int(resolver.resolve(props.get("BatchSize", 10), where))
        return QueueTrigger(function, logical_id, size, window, report)
    if kind == KINESIS_STREAM:
        size = int(resolver.resolve(props.get("BatchSize", 100), where))
        start = str(resolver.resolve(props.get("StartingPosition", "LATEST"), where))
        return StreamTrigger(function, logical_id, size, window, report, start)
    raise LocalError(f"{where}: {logical_id} is not an SQS queue or Kinesis stream of the template")


@source("SQS")
def parse_sqs(props: Mapping[str, Any], event: EventContext) -> QueueTrigger | StreamTrigger:
    return trigger(event.function, props.get("Queue"), props, event.resolver, event.where)


@source("Kinesis")
def parse_kinesis(props: Mapping[str, Any], event: EventContext) -> QueueTrigger | StreamTrigger:
    return trigger(event.function, props.get("Stream"), props, event.resolver, event.where)


def mapping(
    logical_id: str, props: Mapping[str, Any], resolver: Resolver
) -> QueueTrigger | StreamTrigger:
    """An AWS::Lambda::EventSourceMapping resource of the template."""
    target = props.get("FunctionName")
    if not (isinstance(target, dict) and "Ref" in target):
        raise LocalError(f"{logical_id}: FunctionName must be !Ref to a function of this template")
    return trigger(str(target["Ref"]), props.get("EventSourceArn"), props, resolver, logical_id)
