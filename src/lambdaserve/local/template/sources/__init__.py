"""Event sources of a function (its `Events`), one module per type, found in one registry.

Each module registers a parser for its `Type` with `@source("Type")`; the parser turns one
event's Properties into a small frozen record that names the function it feeds. The local
services (gateway, S3 notifier ...) pick the records of their type from the template. To
add a type (SQS, Kinesis, Step Functions ...): a module here with its record and parser,
imported at the bottom of this file, and a service that delivers its events.
Types without a parser are kept by name so the runtime can say they are not emulated.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from lambdaserve.local.template.intrinsics import Resolver


class EventSource(Protocol):
    """What every event source record has: the logical id of the function it invokes."""

    @property
    def function(self) -> str: ...


@dataclass(frozen=True)
class EventContext:
    """Where an event is declared, for parsers and their error messages."""

    function: str
    name: str  # the event's key under Events
    resolver: Resolver

    @property
    def where(self) -> str:
        return f"{self.function}.Events.{self.name}"


Parser = Callable[[Mapping[str, Any], EventContext], EventSource]

REGISTRY: dict[str, Parser] = {}


def source(event_type: str) -> Callable[[Parser], Parser]:
    """Register the parser of one event `Type`."""

    def register(parser: Parser) -> Parser:
        REGISTRY[event_type] = parser
        return parser

    return register


@dataclass(frozen=True)
class Unsupported:
    """An event whose type the local runtime does not emulate (kept to be reported)."""

    function: str
    name: str
    type: str


def parse_events(
    function: str, events: Mapping[str, Any], resolver: Resolver
) -> tuple[EventSource, ...]:
    """Every event of one function, in template order."""
    parsed: list[EventSource] = []
    for name, event in events.items():
        kind = str(event.get("Type")) if isinstance(event, dict) else "?"
        parser = REGISTRY.get(kind)
        if parser is None:
            parsed.append(Unsupported(function, str(name), kind))
            continue
        props = event.get("Properties") or {}
        parsed.append(parser(props, EventContext(function, str(name), resolver)))
    return tuple(parsed)


# The registered types (imported for their @source side effect).
from lambdaserve.local.template.sources import http_api, s3, sqs  # noqa: E402

__all__ = [
    "REGISTRY",
    "EventContext",
    "EventSource",
    "Unsupported",
    "http_api",
    "parse_events",
    "s3",
    "source",
    "sqs",
]
