"""The stage contract, and the chain that runs the stages in order around the model.

A stage is an object with `headers` (the request headers it reads, lower-case) and
`__call__(ctx, request, call_next)`: it may answer itself (a cache hit), call `call_next`
and look at or wrap what comes back (metrics, shadow), and add response headers through
`ctx.add_header`. A stage that also has `finish(ctx)` is called once the request is over
(after encode, or after an error), e.g. to emit its metrics record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol, runtime_checkable

from lambdaserve.dataplane.context import RequestContext
from lambdaserve.inference import InferenceRequest, InferenceResponse

Next = Callable[[RequestContext, InferenceRequest], InferenceResponse]


class Stage(Protocol):
    headers: tuple[str, ...]

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse: ...


@runtime_checkable
class Finisher(Protocol):
    def finish(self, ctx: RequestContext) -> None: ...


def run_model(ctx: RequestContext, request: InferenceRequest) -> InferenceResponse:
    """The innermost step: the selected model version scores the request."""
    selection = ctx.selection
    if selection is None:
        raise RuntimeError("DataPlane.select must run before DataPlane.infer")
    model = selection.model
    outputs = model.predict(request.inputs, request.outputs)
    return InferenceResponse(model.name, model.version, outputs, request.id)


def chain(stages: Sequence[Stage], last: Next = run_model) -> Next:
    """One callable running `stages` outermost first, then `last`; built once, not per call."""
    call = last
    for stage in reversed(stages):
        call = partial(stage, call_next=call)
    return call


def finishers(stages: Sequence[object]) -> tuple[Finisher, ...]:
    return tuple(s for s in stages if isinstance(s, Finisher))
