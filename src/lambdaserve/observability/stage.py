"""The metrics and capture stage: one record per request, a sampled capture, the feedback write.

Outermost stage of the dataplane, so it sees every answer (a cache hit too). On the way
through it gives the response its `x-inference-id`; in `finish(ctx)`, once the answer is
encoded or the request failed, it writes:

- one JSON line that is both the request's structured log record (request id, route,
  status, decode / inference / encode milliseconds, cache result, cold start, inference
  id) and its EMF metrics (`Requests`, `Errors4xx`, `Errors5xx`, `Latency`,
  `InferenceLatency`, `ColdStart`, `CacheHits`, `CacheMisses`) under `model` and
  `model`+`version`;
- for a sampled, answered request, a Data Capture line (`capture.capture_record`);
- when feedback is on, the prediction into the feedback table (bounded, never raised);
- when the shadow stage noted a `ShadowOutcome` (`ctx.note("shadow", outcome)`), its
  comparison record (`shadow.record_shadow`), and the outcome inside the capture record.

Cost on the request path: ~10 µs for the record (see README, Observability); capture and
feedback only when configured.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from lambdaserve import snapstart
from lambdaserve.observability import emf, ids, names
from lambdaserve.observability.capture import CapturePolicy, Sampler, capture_record
from lambdaserve.observability.feedback import PredictionStore
from lambdaserve.observability.invocation import current
from lambdaserve.observability.logs import SERVICE
from lambdaserve.observability.predictions import predicted_rows
from lambdaserve.observability.shadow import ShadowOutcome, record_shadow
from lambdaserve.observability.sink import LineWriter, write_stdout
from lambdaserve.settings import Settings

if TYPE_CHECKING:
    from lambdaserve.dataplane.context import RequestContext
    from lambdaserve.dataplane.stages import Next
    from lambdaserve.inference import InferenceRequest, InferenceResponse

logger = logging.getLogger("lambdaserve.observability")

INFERENCE_ID = "x-inference-id"
CACHE = "x-cache"
# Notes earlier stages leave on the context (`ctx.note(name, value)`): the cache stage its
# result (hit | miss | bypass), the shadow stage its `ShadowOutcome`.
CACHE_NOTE = "cache"
SHADOW_NOTE = "shadow"
_UNITS = {
    names.INFERENCE_LATENCY: names.MILLISECONDS,
    names.COLD_START: names.COUNT,
    names.CACHE_HITS: names.COUNT,
    names.CACHE_MISSES: names.COUNT,
    names.FEEDBACK_STORE_ERRORS: names.COUNT,
    names.CAPTURED: names.COUNT,
}
_ALWAYS = (
    (names.REQUESTS, names.COUNT),
    (names.ERRORS_4XX, names.COUNT),
    (names.ERRORS_5XX, names.COUNT),
    (names.LATENCY, names.MILLISECONDS),
)
_DIRECTIVES: dict[tuple[tuple[str, ...], bool], list[dict[str, Any]]] = {}


def _directive(extra: tuple[str, ...], versioned: bool) -> list[dict[str, Any]]:
    """The `CloudWatchMetrics` of a request record; a handful of shapes, each built once.

    Without a selected version (the caller named one that does not exist) only the `model`
    set is used, so callers cannot mint dimension values.
    """
    key = (extra, versioned)
    found = _DIRECTIVES.get(key)
    if found is None:
        sets = (
            [list(names.BY_MODEL), list(names.BY_VERSION)] if versioned else [list(names.BY_MODEL)]
        )
        metrics = [{"Name": n, "Unit": u} for n, u in (*_ALWAYS, *((e, _UNITS[e]) for e in extra))]
        found = _DIRECTIVES[key] = [
            {"Namespace": names.NAMESPACE, "Dimensions": sets, "Metrics": metrics}
        ]
    return found


class MetricsStage:
    headers: tuple[str, ...] = ()

    def __init__(
        self,
        model: str,
        capture: CapturePolicy | None = None,
        store: PredictionStore | None = None,
        write: LineWriter = write_stdout,
    ) -> None:
        self.model = model
        self.capture = capture or CapturePolicy()
        self._sample = Sampler(self.capture.percent)
        self.store = store
        self._write = write
        self._cold = True

    def reseed(self) -> None:
        """After a snapshot restore (SnapStart): a fresh sampling sequence per container."""
        self._sample.reseed()

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        response = call_next(ctx, request)
        ctx.add_header(INFERENCE_ID, ctx.inference_id)
        return response

    def finish(self, ctx: RequestContext) -> None:
        # Built as one dict with the metrics as members and a cached directive: this runs
        # on every request (README, Observability, for its cost).
        now = time.perf_counter()
        selection = ctx.selection
        version = selection.version if selection is not None else None
        status = ctx.status
        answered = ctx.response is not None and status < 400
        notes = ctx.notes  # what earlier stages noted (cache, shadow)
        cache = notes.get(CACHE_NOTE) if notes else None
        if cache is None and ctx.response_headers:
            cache = ctx.response_headers.get(CACHE)
        latency = ((ctx.encoded or now) - ctx.started) * 1000.0
        inference_ms = ctx.inference_seconds * 1000.0
        cold = self._cold
        self._cold = False
        record: dict[str, Any] = {
            "level": "INFO" if status < 500 else "ERROR",
            "message": "request",
            "service": SERVICE,
            "function_request_id": current.request_id,
            "route": ctx.route,
            "status": status,
            "latency_ms": latency,
            "decode_ms": ctx.decode_seconds * 1000.0,
            "inference_ms": inference_ms,
            "encode_ms": ctx.encode_seconds * 1000.0,
            "cache": cache,
            "cold_start": cold,
            names.REQUESTS: 1,
            names.ERRORS_4XX: 1 if 400 <= status < 500 else 0,
            names.ERRORS_5XX: 1 if status >= 500 else 0,
            names.LATENCY: latency,
        }
        extra: list[str] = []
        if ctx.inferred:
            record[names.INFERENCE_LATENCY] = inference_ms
            extra.append(names.INFERENCE_LATENCY)
        if cold:
            record[names.COLD_START] = 1
            extra.append(names.COLD_START)
        if cache is not None:
            record[names.CACHE_HITS] = 1 if cache == "hit" else 0
            record[names.CACHE_MISSES] = 1 if cache == "miss" else 0
            extra += (names.CACHE_HITS, names.CACHE_MISSES)
        if answered:
            record["inference_id"] = ctx.inference_id
        if ctx.error is not None:
            record["error"] = getattr(ctx.error, "message", None) or type(ctx.error).__name__
        if answered and self.store is not None and not self._remember(ctx, version):
            record[names.FEEDBACK_STORE_ERRORS] = 1
            extra.append(names.FEEDBACK_STORE_ERRORS)
        captured = answered and self._sample()
        if captured:
            record[names.CAPTURED] = 1
            extra.append(names.CAPTURED)
        record[names.MODEL] = self.model
        if version is not None:
            record[names.VERSION] = version
        record["_aws"] = {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": _directive(tuple(extra), version is not None),
        }
        self._write(emf.dumps(record))
        shadow = notes.get(SHADOW_NOTE) if notes else None
        if isinstance(shadow, ShadowOutcome) and version is not None:
            record_shadow(self.model, version, shadow, ctx.inference_id, self._write)
        if captured:
            self._capture(ctx, version, shadow)

    def _remember(self, ctx: RequestContext, version: str | None) -> bool:
        """Store the prediction for feedback; False when the table refused or timed out."""
        selection, response = ctx.selection, ctx.response
        if self.store is None or selection is None or response is None or version is None:
            return True
        manifest = selection.manifest
        rows = predicted_rows(response.outputs, manifest.is_classifier)
        if rows is None:
            return True
        try:
            self.store.put(ctx.inference_id, self.model, version, manifest.task, rows)
        except Exception as exc:  # bounded and best effort: the caller already has its answer
            logger.warning("feedback store write failed for %s: %r", ctx.inference_id, exc)
            return False
        return True

    def _capture(self, ctx: RequestContext, version: str | None, shadow: Any) -> None:
        request, response = ctx.request, ctx.response
        if request is None or response is None or version is None:
            return
        record = capture_record(
            model=self.model,
            version=version,
            inference_id=ctx.inference_id,
            inputs=request.inputs,
            outputs=response.outputs,
            policy=self.capture,
            shadow=shadow.to_json() if isinstance(shadow, ShadowOutcome) else None,
        )
        self._write(emf.dumps(record))


def metrics_stage(settings: Settings, write: LineWriter = write_stdout) -> MetricsStage:
    """The stage for the model function `settings.model_name`, from the settings."""
    if not settings.model_name:
        raise ValueError("the metrics stage serves one model: MODEL_NAME is not set")
    policy = CapturePolicy(
        settings.capture_percent, settings.capture_privacy, settings.capture_salt.encode()
    )
    store = None
    if settings.feedback_table:
        store = PredictionStore(
            settings.feedback_table,
            settings.feedback_ttl_days * 86_400,
            settings.feedback_timeout_ms / 1000.0,
        )
        store.connect()  # the client is built at init, not by the first request
    stage = MetricsStage(settings.model_name, policy, store, write)
    snapstart.after_restore("metrics-sampler", stage.reseed)
    snapstart.after_restore("reseed-inference-ids", ids.reseed)
    return stage
