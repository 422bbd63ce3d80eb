"""What `lambdaserve serve` prints on start: where each service listens, the functions and
what feeds them, and commands to try. Everything comes from the template and the project's
sample events (each service builds its own examples), so it fits any project."""

from __future__ import annotations

from collections.abc import Sequence

from lambdaserve.local.samples import Sample
from lambdaserve.local.services import Service
from lambdaserve.local.template import Function, Template
from lambdaserve.local.template.sources.sqs import QueueTrigger, StreamTrigger

MAX_PATHS = 4


def _feeds(function: Function) -> str:
    """Short description of a function's event sources: route paths, S3 prefixes."""
    bases: list[str] = []
    for route in function.routes:
        base = route.path.removesuffix("/{proxy+}") or "/"
        base = base if route.path == base else f"{base}/…"
        if base not in bases:
            bases.append(base)
    parts = []
    if bases:
        shown = ", ".join(bases[:MAX_PATHS])
        more = f" +{len(bases) - MAX_PATHS} more" if len(bases) > MAX_PATHS else ""
        parts.append(f"{shown}{more}")
    prefixes = sorted({t.prefix or "*" for t in function.s3_triggers})
    if prefixes:
        parts.append("S3 " + ", ".join(prefixes))
    parts.extend(f"SQS {t.queue}" for t in function.sources(QueueTrigger))
    parts.extend(f"Kinesis {t.stream}" for t in function.sources(StreamTrigger))
    return "; ".join(parts) or "invoke only"


def text(
    template: Template, services: Sequence[Service], samples: list[Sample], built: bool
) -> str:
    mode = f"built artifacts in {template.path.parent}" if built else "source tree"
    out = [
        f"lambdaserve local runtime: {template.path.name} ({mode}), "
        f"{len(template.functions)} functions, {len(template.routes)} routes"
    ]
    for service in services:
        out.extend(service.describe())
    out.append("Functions:")
    width = max((len(name) for name in template.functions), default=0)
    for name, function in template.functions.items():
        out.append(f"  {name:<{width}}  {function.memory:>5} MB  {_feeds(function)}")
    for event in template.unsupported_events:
        out.append(
            f"  not emulated: {event.function} event {event.name} (Type: {event.type}); "
            "invoke it with `lambdaserve invoke` and a sample event"
        )
    examples = [line for service in services for line in service.examples(samples)]
    if examples:
        out.append("Try:")
        out.extend(f"  {line}" for line in examples)
    out.append("Ctrl-C stops everything.")
    return "\n".join(out)
