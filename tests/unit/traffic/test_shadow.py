"""The shadow stage: the caller always gets the primary's answer, within the shadow's bound."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer

from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.model import OnnxModel
from lambdaserve.observability.shadow import COMPARED, ERROR, TIMEOUT, ShadowOutcome
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY
from lambdaserve.traffic.policy import ShadowPolicy, TrafficPolicy
from lambdaserve.traffic.shadow import ShadowStage
from lambdaserve.traffic.source import CompiledPolicy, PolicySource, RepositoryFacts

ROWS = load_breast_cancer().data.astype(np.float32)


def source(percent: float = 100.0, timeout_ms: int = 50) -> PolicySource:
    policy = TrafficPolicy(
        "breast_cancer", (("1", 1.0),), None, ShadowPolicy("2", percent, timeout_ms)
    )
    return PolicySource(CompiledPolicy.of(policy, "test"), RepositoryFacts(["1", "2"], {}, "1"))


@pytest.fixture(scope="module")
def plane() -> DataPlane:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["breast_cancer"])
    plane.load_all("breast_cancer")
    return plane


class Faulty:
    """A real model version whose predict is delayed, fails or raises BaseException first."""

    def __init__(self, model: OnnxModel, sleep: float = 0.0, exc: BaseException | None = None):
        self.model, self.sleep, self.exc = model, sleep, exc
        self.release = threading.Event()

    def predict(
        self, inputs: Mapping[str, np.ndarray], outputs: tuple[str, ...] | None = None
    ) -> dict[str, np.ndarray]:
        if self.sleep:
            self.release.wait(self.sleep)
        if self.exc is not None:
            raise self.exc
        return self.model.predict(inputs, outputs)


class Recorded:
    def __init__(self) -> None:
        self.outcomes: list[ShadowOutcome] = []
        self.done = threading.Event()

        self.notes: list[object] = []

    def __call__(self, ctx: RequestContext, outcome: ShadowOutcome) -> None:
        self.notes.append((ctx.notes or {}).get("shadow"))
        self.outcomes.append(outcome)
        self.done.set()


def run(
    plane: DataPlane, stage: ShadowStage, rows: np.ndarray, version: str | None = None
) -> tuple[InferenceResponse, float]:
    ctx = RequestContext("breast_cancer", version)
    plane.select(ctx)
    request = InferenceRequest({"input": rows})

    def primary(c: RequestContext, r: InferenceRequest) -> InferenceResponse:
        assert c.selection is not None
        model = c.selection.model
        return InferenceResponse(model.name, model.version, model.predict(r.inputs), r.id)

    started = time.perf_counter()
    response = stage(ctx, request, primary)
    return response, time.perf_counter() - started


def unshadowed(plane: DataPlane, rows: np.ndarray) -> dict[str, np.ndarray]:
    return plane.model("breast_cancer", "1").predict({"input": rows})


def same_outputs(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    yield Recorded()


def test_a_healthy_shadow_is_compared_and_the_answer_is_the_primarys(
    plane: DataPlane, recorded: Recorded
) -> None:
    stage = ShadowStage(source(timeout_ms=5_000), plane.model, True, recorded)
    response, _ = run(plane, stage, ROWS)
    assert response.model_version == "1"
    assert same_outputs(response.outputs, unshadowed(plane, ROWS))
    [outcome] = recorded.outcomes
    assert outcome.status == COMPARED and outcome.version == "2"
    assert recorded.notes == [outcome]  # later stages (metrics, capture) see it too
    v1, v2 = (plane.model("breast_cancer", v).predict({"input": ROWS})["label"] for v in "12")
    assert outcome.agreement == pytest.approx(float(np.mean(v1 == v2)))
    assert 0.9 < outcome.agreement < 1.0  # the forest disagrees on a few rows
    assert outcome.seconds is not None and outcome.seconds > 0


@pytest.mark.parametrize(
    "exc",
    [RuntimeError("onnxruntime: invalid input"), MemoryError(), SystemExit(3), KeyboardInterrupt()],
)
def test_a_failing_or_crashing_shadow_leaves_the_answer_alone(
    plane: DataPlane, recorded: Recorded, exc: BaseException
) -> None:
    faulty = Faulty(plane.model("breast_cancer", "2"), exc=exc)
    stage = ShadowStage(source(timeout_ms=5_000), lambda m, v: faulty, True, recorded)
    for rows in (ROWS[:1], ROWS[:50]):
        response, _ = run(plane, stage, rows)
        assert same_outputs(response.outputs, unshadowed(plane, rows))
    assert [o.status for o in recorded.outcomes] == [ERROR, ERROR]
    assert recorded.outcomes[0].error is not None
    assert recorded.outcomes[0].error.startswith(type(exc).__name__)


def test_a_slow_shadow_adds_at_most_its_timeout(plane: DataPlane, recorded: Recorded) -> None:
    faulty = Faulty(plane.model("breast_cancer", "2"), sleep=30.0)
    stage = ShadowStage(source(timeout_ms=50), lambda m, v: faulty, True, recorded, workers=1)
    response, elapsed = run(plane, stage, ROWS[:1])
    assert same_outputs(response.outputs, unshadowed(plane, ROWS[:1]))
    assert recorded.outcomes == [ShadowOutcome("2", TIMEOUT)]
    # 50 ms bound; generous slack for a loaded machine, far below the shadow's 30 s.
    assert elapsed < 2.0
    # The only worker is still busy: the next request is not shadowed and does not wait.
    response, elapsed = run(plane, stage, ROWS[:1])
    assert same_outputs(response.outputs, unshadowed(plane, ROWS[:1]))
    assert len(recorded.outcomes) == 1
    faulty.release.set()


def test_the_wait_is_bounded_from_the_shadows_start(plane: DataPlane, recorded: Recorded) -> None:
    faulty = Faulty(plane.model("breast_cancer", "2"), sleep=30.0)
    stage = ShadowStage(source(timeout_ms=300), lambda m, v: faulty, True, recorded)
    timings = [run(plane, stage, ROWS[:1])[1] for _ in range(2)]
    faulty.release.set()
    assert all(0.25 < t < 3.0 for t in timings)  # waited for the bound, not for the shadow


def test_pinned_requests_and_the_shadow_version_itself_are_not_shadowed(
    plane: DataPlane, recorded: Recorded
) -> None:
    stage = ShadowStage(source(), plane.model, True, recorded)
    run(plane, stage, ROWS[:1], version="1")
    run(plane, stage, ROWS[:1], version="2")
    assert recorded.outcomes == []


@pytest.mark.parametrize(("percent", "low", "high"), [(0, 0, 0), (30, 40, 80), (100, 200, 200)])
def test_percent_of_requests_are_shadowed(
    plane: DataPlane, recorded: Recorded, percent: float, low: int, high: int
) -> None:
    stage = ShadowStage(source(percent, timeout_ms=5_000), plane.model, True, recorded)
    for _ in range(200):
        run(plane, stage, ROWS[:1])
    assert low <= len(recorded.outcomes) <= high  # 30% of 200: mean 60, sd 6.5


def test_a_failing_recorder_never_fails_the_request(
    plane: DataPlane, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(ctx: RequestContext, outcome: ShadowOutcome) -> None:
        raise OSError("stdout closed")

    stage = ShadowStage(source(timeout_ms=5_000), plane.model, True, broken)
    response, _ = run(plane, stage, ROWS[:3])
    assert same_outputs(response.outputs, unshadowed(plane, ROWS[:3]))
    assert "recording a shadow outcome failed" in caplog.text
