"""Lambda entry point of streaming predictions: SQS messages or Kinesis records in, results
out to the SQS output queue (and the EventBridge bus when one is named).

Every model of the repository is loaded and warmed at init; each invocation scores its
messages grouped by model version, one model call per group (README, Streaming). The
response names only the messages whose results were not delivered (`batchItemFailures`).
"""

from __future__ import annotations

import gc
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from lambdaserve.dataplane import create_dataplane
from lambdaserve.observability import logs
from lambdaserve.settings import Settings
from lambdaserve.stream.processor import StreamConfig, StreamProcessor
from lambdaserve.stream.sinks import EventBridgeSink, Sink, SqsSink

settings = Settings.from_env()
logs.setup(function="stream")
if not settings.stream_output_queue:
    raise RuntimeError("LAMBDASERVE_STREAM_OUTPUT_QUEUE is not set: results have nowhere to go")
plane = create_dataplane(settings)
for name in plane.model_names():
    plane.load_all(name)  # during init, when Lambda's CPU boost is free
RETRIES = Config(retries={"mode": "standard", "max_attempts": 3})


@cache
def sqs() -> Any:
    """Created on first use, so endpoint variables and test mocks set before it apply."""
    return boto3.client("sqs", config=RETRIES)


@cache
def events() -> Any:
    return boto3.client("events", config=RETRIES)


sinks: list[Sink] = [SqsSink(settings.stream_output_queue, sqs)]
if settings.stream_event_bus:
    sinks.append(EventBridgeSink(settings.stream_event_bus, events))
processor = StreamProcessor(
    plane, sinks, StreamConfig(settings.max_rows, settings.stream_max_result_bytes)
)
gc.freeze()  # init's objects never change; the first collection need not walk them


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return processor.handle(event, context)
