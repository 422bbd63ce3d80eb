"""The shadow stage: another version scores the same input, and never changes the answer.

For `percent` of the requests the policy routes (a path naming a version or label is not
shadowed, nor a request already on the shadow version), the shadow version runs in a
worker thread while the primary runs in the caller's: onnxruntime releases the GIL, and
every version of the model is loaded in the same function. After the primary answers, the
caller waits for the shadow at most until `timeout_ms` after it started, so the added
latency is bounded by `timeout_ms`; the primary's response is returned as it is, whatever
the shadow did (answered, failed, crashed, timed out). When every worker is still busy with
earlier slow shadows, the request is not shadowed (nothing queues behind a slow shadow).
Each outcome (class agreement or mean absolute difference, or why there is none) is noted
on the request (`ctx.note("shadow", ...)`): the metrics stage writes it as one EMF record
when the request finishes (`observability.shadow`), and puts it in the capture record.
`record`, if given, is called with it too (tests).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Protocol

import numpy as np

from lambdaserve.dataplane.context import RequestContext
from lambdaserve.dataplane.stages import Next
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.observability.shadow import ERROR, TIMEOUT, ShadowOutcome, compare
from lambdaserve.traffic import rng
from lambdaserve.traffic.source import PolicySource

logger = logging.getLogger("lambdaserve.traffic")

Outputs = dict[str, np.ndarray]


class Predictor(Protocol):
    def predict(
        self, inputs: Mapping[str, np.ndarray], outputs: tuple[str, ...] | None = None
    ) -> Outputs: ...


Record = Callable[[RequestContext, ShadowOutcome], None]
ModelFor = Callable[[str, str], Predictor]


class ShadowStage:
    headers: tuple[str, ...] = ()

    def __init__(
        self,
        source: PolicySource,
        model_for: ModelFor,
        classifier: bool,
        record: Record | None = None,
        workers: int = 2,
    ) -> None:
        self.source = source
        self._model_for = model_for
        self._classifier = classifier
        self._record = record
        self._random = rng.generator().random
        self._slots = threading.BoundedSemaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="shadow")

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        shadow = self.source.current().shadow
        if (
            shadow is None
            or ctx.version is not None
            or ctx.label is not None
            or ctx.selected_version == shadow.version
            or (shadow.percent < 100 and self._random() * 100 >= shadow.percent)
            or not self._slots.acquire(blocking=False)
        ):
            return call_next(ctx, request)
        started = time.perf_counter()
        try:
            model = self._model_for(ctx.model, shadow.version)
            future = self._pool.submit(_score, model, request)
        except BaseException:
            self._slots.release()
            raise
        future.add_done_callback(self._release)
        response = call_next(ctx, request)
        remaining = shadow.timeout_ms / 1000 - (time.perf_counter() - started)
        self._finish(ctx, shadow.version, response, future, remaining)
        return response

    def _release(self, _: Future[tuple[Outputs, float]]) -> None:
        self._slots.release()

    def _finish(
        self,
        ctx: RequestContext,
        version: str,
        response: InferenceResponse,
        future: Future[tuple[Outputs, float]],
        remaining: float,
    ) -> None:
        try:
            outputs, seconds = future.result(timeout=max(remaining, 0.0))
            outcome = compare(response.outputs, outputs, self._classifier, version, seconds)
        except FutureTimeout:
            outcome = ShadowOutcome(version, TIMEOUT)
        except BaseException as exc:  # whatever the shadow raised, the caller never sees it
            outcome = ShadowOutcome(version, ERROR, error=f"{type(exc).__name__}: {exc}")
        ctx.note("shadow", outcome)  # for the metrics and capture stages' records
        if self._record is None:
            return
        try:
            self._record(ctx, outcome)
        except Exception:
            logger.exception("recording a shadow outcome failed")

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _score(model: Predictor, request: InferenceRequest) -> tuple[Outputs, float]:
    started = time.perf_counter()
    outputs = model.predict(request.inputs, request.outputs)
    return outputs, time.perf_counter() - started
