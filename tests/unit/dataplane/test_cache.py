"""The cache stage in a real dataplane: hits, misses, bypass, version isolation, the table."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import cycle
from typing import Any

import boto3
import numpy as np
import pytest
from moto import mock_aws

from lambdaserve.cache.admission import Doorkeeper
from lambdaserve.cache.lru import LruCache
from lambdaserve.cache.table import SharedTable, dynamodb_client
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.dataplane.cache import CacheStage
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

ROW = np.array([[17.99, 10.38, 122.8, 1001.0, 0.1184, 0.2776, 0.3001, 0.1471, 0.2419, 0.07871,
                 1.095, 0.9053, 8.589, 153.4, 0.006399, 0.04904, 0.05373, 0.01587, 0.03003,
                 0.006193, 25.38, 17.33, 184.6, 2019.0, 0.1622, 0.6656, 0.7119, 0.2654,
                 0.4601, 0.1189]])  # fmt: skip


class Counting:
    """Counts how often the model itself is reached (the innermost stage)."""

    headers: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.calls = 0

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Any
    ) -> InferenceResponse:
        self.calls += 1
        response: InferenceResponse = call_next(ctx, request)
        return response


def make_plane(stage: CacheStage) -> tuple[DataPlane, Counting]:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["breast_cancer"])
    counter = Counting()
    plane.configure(None, [stage, counter])
    return plane, counter


def infer(
    plane: DataPlane, version: str | None = "2", array: np.ndarray = ROW, **attributes: str
) -> tuple[InferenceResponse, str | None]:
    ctx = RequestContext("breast_cancer", version, attributes=attributes)
    plane.select(ctx)
    response = plane.infer(ctx, InferenceRequest({"input": array}))
    return response, (ctx.response_headers or {}).get("x-cache")


def test_second_identical_request_is_a_hit_with_the_same_outputs() -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60)))
    first, state = infer(plane)
    assert state == "miss" and model.calls == 1
    second, state = infer(plane, array=ROW.astype(np.float32))  # the V2 FP32 form of it
    assert state == "hit" and model.calls == 1
    assert second.model_version == "2"
    for name, array in first.outputs.items():
        assert second.outputs[name].tobytes() == array.tobytes()


def test_with_a_doorkeeper_an_input_is_stored_on_its_second_miss() -> None:
    stage = CacheStage(LruCache(16, 1 << 20, 60), doorkeeper=Doorkeeper(64))
    plane, model = make_plane(stage)
    states = [infer(plane)[1] for _ in range(4)]
    assert states == ["miss", "miss", "hit", "hit"] and model.calls == 2
    assert stage.lru is not None and len(stage.lru) == 1
    other = ROW.copy()
    other[0, 0] += 1.0
    assert infer(plane, array=other)[1] == "miss"
    assert len(stage.lru) == 1  # a one-off input is remembered, never stored


def test_no_cache_refreshes_the_entry_whatever_the_doorkeeper_says() -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60), doorkeeper=Doorkeeper(64)))
    assert infer(plane, **{"cache-control": "no-cache"})[1] == "bypass"
    assert infer(plane)[1] == "hit" and model.calls == 1


def test_versions_never_share_entries() -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60)))
    infer(plane, "2")
    v1, state = infer(plane, "1")
    assert state == "miss" and model.calls == 2 and v1.model_version == "1"
    assert infer(plane, None)[1] == "hit"  # the default (`stable` -> 1) is version 1's entry


def test_a_split_selector_keeps_each_version_answering_itself() -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60)))
    versions = cycle(["1", "2"])

    class Alternating:
        headers: tuple[str, ...] = ()

        def __call__(self, ctx: RequestContext) -> str:
            return next(versions)

    plane.configure(Alternating(), list(plane.stages))
    answers = [infer(plane, None)[0] for _ in range(6)]
    assert [a.model_version for a in answers] == ["1", "2"] * 3
    assert model.calls == 2
    direct = {v: infer(make_plane(CacheStage(None))[0], v)[0] for v in ("1", "2")}
    for answer in answers:
        expected = direct[answer.model_version].outputs["probabilities"]
        assert answer.outputs["probabilities"].tobytes() == expected.tobytes()


@pytest.mark.parametrize(
    ("directive", "first", "then"),
    [
        ("no-cache", "bypass", "hit"),
        ("no-store", "bypass", "miss"),
        ("max-age=0, No-Cache", "bypass", "hit"),
    ],
)
def test_cache_control_bypasses(directive: str, first: str, then: str) -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60)))
    assert infer(plane, **{"cache-control": directive})[1] == first
    assert infer(plane)[1] == then
    assert model.calls == (1 if then == "hit" else 2)


def test_off_cache_says_bypass_and_always_runs_the_model() -> None:
    plane, model = make_plane(CacheStage(None))
    assert [infer(plane)[1] for _ in range(3)] == ["bypass"] * 3
    assert model.calls == 3


def test_bad_input_is_refused_by_the_model_and_never_cached() -> None:
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60)))
    for bad in (ROW[:, :5], np.full_like(ROW, np.nan)):
        with pytest.raises(InvalidInput):
            infer(plane, array=bad)
    assert model.calls == 2
    assert len(plane.stages[0].lru or ()) == 0  # type: ignore[attr-defined]


def test_entries_expire() -> None:
    now = [0.0]
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 10, clock=lambda: now[0])))
    infer(plane)
    now[0] = 11
    assert infer(plane)[1] == "miss" and model.calls == 2


@pytest.fixture
def table_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("dynamodb").create_table(
            TableName="cache",
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "B"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb_client(0.5)


def test_a_new_container_hits_the_shared_table(table_client: Any) -> None:
    first_table = SharedTable("cache", 60, lambda: table_client)
    plane, model = make_plane(CacheStage(LruCache(16, 1 << 20, 60), first_table))
    answer, state = infer(plane)
    assert state == "miss" and model.calls == 1
    assert first_table.flush()
    # Another container: an empty LRU, the same table.
    other, other_model = make_plane(
        CacheStage(LruCache(16, 1 << 20, 60), SharedTable("cache", 60, lambda: table_client))
    )
    shared, state = infer(other)
    assert state == "hit" and other_model.calls == 0
    assert shared.outputs["probabilities"].tobytes() == answer.outputs["probabilities"].tobytes()
    assert infer(other)[1] == "hit"  # now from its own LRU
    assert infer(other, "1")[1] == "miss"  # another version, even through the table


def test_a_failing_table_costs_nothing_but_the_hit(table_client: Any) -> None:
    plane, model = make_plane(
        CacheStage(None, SharedTable("missing-table", 60, lambda: table_client))
    )
    answers = [infer(plane) for _ in range(3)]
    assert [state for _, state in answers] == ["miss"] * 3
    assert model.calls == 3


def test_model_files_are_digested_at_init_when_the_table_is_on(
    table_client: Any, tmp_path: Any
) -> None:
    import dataclasses
    import shutil

    from lambdaserve.dataplane.compose import create_dataplane
    from lambdaserve.settings import Settings

    repository = tmp_path / "models"
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "breast_cancer", repository / "breast_cancer")
    (repository / "breast_cancer" / "1" / "model.onnx").unlink()  # a broken version
    settings = dataclasses.replace(
        Settings(repository, "breast_cancer"), cache_table="cache", metrics=False
    )
    plane = create_dataplane(settings, served=["breast_cancer"])
    (stage,) = [s for s in plane.stages if isinstance(s, CacheStage)]
    # Before any request: version 2's digest is known, the broken version 1 is skipped.
    assert set(stage._model_digests) == {("breast_cancer", "2")}
    assert stage._model_digests[("breast_cancer", "2")].startswith("2:")
