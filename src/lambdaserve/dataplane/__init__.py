"""The dataplane: the one seam every prediction goes through, from any protocol or batch.

Contract (other modules rely on these names):

- `RequestContext(model, version=None, label=None, route="predict", attributes={})`, one
  per request (REST) or per job (batch). It carries what the caller named, the request
  attributes (`attributes`: lower-case header name -> value, only for the headers the
  selector and stages declared), the `selection`, the decoded `request` and the
  `response`, the raw `body` and the encoded `reply_body` / `reply_media_type` (REST),
  `response_headers` stages add (`add_header`), `notes` stages leave for later stages and
  finishers (`note("cache", "hit")`), the `status`/`error` it ended with, `perf_counter`
  marks (`started`, `decoded`, `inferred`, `encoded`, with `decode_seconds`,
  `inference_seconds`, `encode_seconds`) and a lazy `inference_id`.
- `DataPlane.select(ctx) -> Selection(version, manifest, model)`: the version for this
  request, chosen ONCE by the selector, before decode (decode uses its manifest).
  A `Selector` has `headers` and `__call__(ctx) -> str` (a concrete version); the default
  `PathSelector` takes the path's version or label, else the model's default.
- `DataPlane.infer(ctx, request) -> InferenceResponse`: the stages in order, then the
  selected model (`stages.run_model`). A `Stage` has `headers` and
  `__call__(ctx, request, call_next)`; it may answer itself, call `call_next(ctx, request)`,
  and add response headers. The chain is built once (`DataPlane.configure`), not per call.
- `DataPlane.predict_block(ctx, inputs)`: the bulk path for batch blocks (selected model,
  no per-request stages), after one `select(ctx)` per job.
- `DataPlane.finish(ctx)`: after the answer is encoded or the request failed (and at the
  end of a batch job); the selector and stages with a `finish(ctx)` method (metrics,
  capture) run here, before the REST response is built (headers they add are sent). A
  finisher that raises is logged and never fails the request.
- `compose.create_dataplane(settings, served)`: the one place that builds the selector and
  the stage list from settings. A new stage (traffic policy selector, cache, shadow,
  metrics) is a module in this package plus a line there; routers and codecs never change.

The REST request pipeline (`rest.pipeline`) sets the marks, sends `x-model-version` (the
version that answered) and every header in `ctx.response_headers` on every predict
response, and calls `finish`.
"""

from lambdaserve.dataplane.compose import create_dataplane
from lambdaserve.dataplane.context import RequestContext, Selection
from lambdaserve.dataplane.plane import DataPlane
from lambdaserve.dataplane.selection import PathSelector, Selector
from lambdaserve.dataplane.stages import Finisher, Next, Stage

__all__ = [
    "DataPlane",
    "Finisher",
    "Next",
    "PathSelector",
    "RequestContext",
    "Selection",
    "Selector",
    "Stage",
    "create_dataplane",
]
