"""X-Ray subsegments for requests and batch jobs, written after the fact.

The request path already takes a `perf_counter()` mark after decode, inference and encode
(and the batch pipeline can record one span per block and step), so tracing needs no code
on the hot path: once a request is answered (`finish`) or a job is done, the spans become
subsegments with their measured start and end times, annotated with the model and version.

Off by default (`LAMBDASERVE_TRACING`, the template's `DetailedTracing`): Powertools'
Tracer imports the X-Ray SDK, which adds to every cold start (README, Observability);
only when on is it imported. Lambda's own segments (`Tracing: Active`) cost nothing and
stay on either way.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lambdaserve.observability.logs import SERVICE

if TYPE_CHECKING:
    from lambdaserve.dataplane.context import RequestContext
    from lambdaserve.dataplane.stages import Next
    from lambdaserve.inference import InferenceRequest, InferenceResponse

Annotations = Mapping[str, str | int | float | bool]


@dataclass(frozen=True, slots=True)
class Span:
    name: str
    start: float  # time.perf_counter()
    end: float
    status: int = 0  # the step failed with this status (X-Ray: 4xx an error, 5xx a fault)


# X-Ray streams a large trace in pieces, but a job's thousands of blocks would still be
# more detail than a trace view shows: the first spans are kept, the rest counted.
SPAN_LIMIT = 400


@dataclass
class SpanLog:
    """Spans recorded by any thread (the batch pipeline's reader and predictor)."""

    limit: int = SPAN_LIMIT
    spans: list[Span] = field(default_factory=list)
    dropped: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, name: str, start: float, end: float) -> None:
        with self._lock:
            if len(self.spans) < self.limit:
                self.spans.append(Span(name, start, end))
            else:
                self.dropped += 1


class Tracing:
    """Writes spans as subsegments of the current X-Ray segment (Lambda's, per invoke)."""

    def __init__(self, recorder: Any) -> None:
        self.recorder = recorder  # aws_xray_sdk's recorder, Powertools Tracer's provider

    def emit(self, spans: Iterable[Span], annotations: Annotations) -> None:
        # perf_counter -> epoch seconds, as X-Ray wants them; taken now, drift is nil.
        offset = time.time() - time.perf_counter()
        recorder = self.recorder
        for span in spans:
            subsegment = recorder.begin_subsegment(span.name)
            if subsegment is None:  # no segment to attach to (e.g. tracing not sampled)
                return
            subsegment.start_time = span.start + offset
            for key, value in annotations.items():
                subsegment.put_annotation(key, value)
            if span.status >= 500:
                subsegment.add_fault_flag()
            elif span.status >= 400:
                subsegment.add_error_flag()
            recorder.end_subsegment(span.end + offset)


SPANS_NOTE = "spans"  # a SpanLog a caller leaves on the context (the batch job's steps)


def request_spans(ctx: RequestContext) -> list[Span]:
    """decode (body read included), inference, encode: as far as the request got, the
    step that failed flagged with the request's status; or the steps a batch job recorded."""
    recorded = (ctx.notes or {}).get(SPANS_NOTE)
    if isinstance(recorded, SpanLog):
        return list(recorded.spans)
    marks = [("decode", ctx.decoded), ("inference", ctx.inferred), ("encode", ctx.encoded)]
    spans, start = [], ctx.started
    for name, end in marks:
        if not end:
            if ctx.error is not None:
                spans.append(Span(name, start, time.perf_counter(), ctx.status))
            break
        spans.append(Span(name, start, end))
        start = end
    return spans


def request_annotations(ctx: RequestContext) -> dict[str, str | int]:
    found: dict[str, str | int] = {"model": ctx.model, "route": ctx.route, "status": ctx.status}
    if ctx.selection is not None:
        found["version"] = ctx.selection.version
    cache = (ctx.response_headers or {}).get("x-cache")  # the cache stage's answer
    if cache is not None:
        found["cache"] = cache
    return found


class TracingStage:
    """A dataplane stage that only finishes: the request's spans as subsegments."""

    headers: tuple[str, ...] = ()

    def __init__(self, tracing: Tracing) -> None:
        self.tracing = tracing

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        self.tracing.emit(request_spans(ctx), request_annotations(ctx))


def powertools_tracing() -> Tracing:
    """Powertools' Tracer (imported here, on demand), patching botocore only: S3, DynamoDB
    and SSM calls show up as subsegments; patching everything would import more at init."""
    from aws_lambda_powertools import Tracer

    tracer = Tracer(service=SERVICE, auto_patch=False)
    tracer.patch(["botocore"])
    return Tracing(tracer.provider)
