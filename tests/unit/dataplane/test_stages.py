"""The stage chain: order, short-circuits, the model as its innermost step, finishers."""

from __future__ import annotations

import numpy as np
import pytest

from lambdaserve.dataplane import DataPlane, Next, RequestContext
from lambdaserve.dataplane.stages import chain, finishers, run_model
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

SETOSA = InferenceRequest({"input": np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)})


@pytest.fixture(scope="module")
def plane() -> DataPlane:
    return DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["iris"])


class Recorder:
    """Notes its name on the way in and out, and tags the response header list."""

    headers: tuple[str, ...] = ()

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        self.log.append(f"{self.name}>")
        response = call_next(ctx, request)
        self.log.append(f"<{self.name}")
        ctx.add_header(f"x-{self.name}", str(len(self.log)))
        return response


class Answers:
    """Answers by itself without calling the rest of the chain (what a cache hit does)."""

    headers: tuple[str, ...] = ()

    def __init__(self, response: InferenceResponse) -> None:
        self.response = response

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        return self.response


def selected(plane: DataPlane) -> RequestContext:
    ctx = RequestContext("iris")
    plane.select(ctx)
    return ctx


def test_without_stages_the_chain_is_the_model_itself() -> None:
    assert chain([]) is run_model


def test_run_model_scores_with_the_selected_version(plane: DataPlane) -> None:
    response = run_model(selected(plane), SETOSA)
    assert (response.model_name, response.model_version) == ("iris", "1")
    assert response.outputs["label"].tolist() == [0]


def test_run_model_needs_a_selection() -> None:
    with pytest.raises(RuntimeError, match="select must run before"):
        run_model(RequestContext("iris"), SETOSA)


def test_stages_run_outermost_first_around_the_model(plane: DataPlane) -> None:
    log: list[str] = []
    run = chain([Recorder("a", log), Recorder("b", log)])
    ctx = selected(plane)
    response = run(ctx, SETOSA)
    assert log == ["a>", "b>", "<b", "<a"]
    assert response.outputs["label"].tolist() == [0]
    assert ctx.response_headers == {"x-b": "3", "x-a": "4"}


def test_a_stage_may_answer_without_the_rest_of_the_chain(plane: DataPlane) -> None:
    log: list[str] = []
    canned = InferenceResponse("iris", "1", {"label": np.array([2])})
    run = chain([Recorder("outer", log), Answers(canned), Recorder("inner", log)])
    assert run(selected(plane), SETOSA) is canned
    assert log == ["outer>", "<outer"]


class Finishing:
    headers: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.seen: list[int] = []

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        self.seen.append(ctx.status)


def test_finishers_are_the_parts_with_a_finish_method() -> None:
    done = Finishing()
    assert finishers([Recorder("a", []), done, object()]) == (done,)
