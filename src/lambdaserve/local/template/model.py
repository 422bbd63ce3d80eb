"""A template as the local runtime uses it: functions, layers, buckets, SSM parameters and
DynamoDB tables, resolved locally."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template.http_auth import ApiAuth
from lambdaserve.local.template.intrinsics import DEFAULT_REGION
from lambdaserve.local.template.sources import EventSource, Unsupported
from lambdaserve.local.template.sources.http_api import HttpRoute
from lambdaserve.local.template.sources.s3 import S3Trigger
from lambdaserve.local.template.sources.sqs import QueueTrigger, StreamTrigger
from lambdaserve.local.template.state_machines import StateMachine

# Lambda's defaults when neither the function nor Globals set them.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128

Source = TypeVar("Source")


@dataclass(frozen=True)
class Layer:
    logical_id: str
    content_uri: Path
    build_method: str | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    runtime: str
    code_uri: Path
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    log_format: str | None = None
    log_level: str | None = None
    events: tuple[EventSource, ...] = ()
    # SnapStart.ApplyOn is PublishedVersions: Lambda inits once and restores from a snapshot.
    snap_start: bool = False

    @property
    def python_version(self) -> tuple[int, int]:
        match = re.fullmatch(r"python(\d+)\.(\d+)", self.runtime)
        if not match:
            raise LocalError(
                f"{self.logical_id}: runtime {self.runtime!r} is not a python runtime; "
                "the local runtime runs python functions only"
            )
        return int(match.group(1)), int(match.group(2))

    def sources(self, kind: type[Source]) -> list[Source]:
        return [e for e in self.events if isinstance(e, kind)]

    @property
    def routes(self) -> list[HttpRoute]:
        return self.sources(HttpRoute)

    @property
    def s3_triggers(self) -> list[S3Trigger]:
        return self.sources(S3Trigger)


@dataclass(frozen=True)
class Table:
    """A DynamoDB table whose Condition holds: what creating it locally needs."""

    logical_id: str
    name: str
    key_schema: tuple[Mapping[str, str], ...]
    attributes: tuple[Mapping[str, str], ...]
    ttl_attribute: str | None = None


@dataclass(frozen=True)
class Queue:
    """An SQS queue of the template, with what its local stand-in needs to behave alike."""

    logical_id: str
    name: str
    visibility_timeout: int = 30
    dead_letter: str | None = None  # logical id of the redrive target
    max_receive_count: int = 0


@dataclass(frozen=True)
class Template:
    path: Path
    functions: Mapping[str, Function]
    layers: Mapping[str, Layer]
    buckets: Mapping[str, str]  # logical id -> local bucket name
    region: str = DEFAULT_REGION
    ssm_parameters: Mapping[str, str] = field(default_factory=dict)  # name -> initial value
    tables: Mapping[str, Table] = field(default_factory=dict)  # local name -> its schema
    state_machines: Mapping[str, StateMachine] = field(default_factory=dict)
    queues: Mapping[str, Queue] = field(default_factory=dict)
    streams: Mapping[str, str] = field(default_factory=dict)  # logical id -> local stream name
    event_buses: Mapping[str, str] = field(default_factory=dict)  # logical id -> local bus name
    http_auth: ApiAuth = field(default_factory=ApiAuth)  # who may call the HttpApi routes

    def function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise LocalError(
                f"unknown function {logical_id!r} in {self.path.name}; functions: {known}"
            ) from None

    @property
    def project(self) -> Path:
        """The project directory (a built template in .aws-sam/build belongs to it too)."""
        base = self.path.parent
        return base.parent.parent if base.parent.name == ".aws-sam" else base

    def sources(self, kind: type[Source]) -> list[Source]:
        """Every event source of one type, over all functions, in template order."""
        return [s for f in self.functions.values() for s in f.sources(kind)]

    @property
    def routes(self) -> list[HttpRoute]:
        return self.sources(HttpRoute)

    @property
    def s3_triggers(self) -> list[S3Trigger]:
        return self.sources(S3Trigger)

    @property
    def queue_triggers(self) -> list[QueueTrigger]:
        return self.sources(QueueTrigger)

    @property
    def stream_triggers(self) -> list[StreamTrigger]:
        return self.sources(StreamTrigger)

    @property
    def unsupported_events(self) -> list[Unsupported]:
        return self.sources(Unsupported)
