"""The selector: path pins bypass the split; sticky keys and random draws follow the table."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest

from lambdaserve.errors import ModelNotFound
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY
from lambdaserve.traffic import rng
from lambdaserve.traffic.buckets import sticky_bucket
from lambdaserve.traffic.selector import TrafficSelector
from lambdaserve.traffic.source import policy_source


@dataclass
class Ctx:
    model: str = "breast_cancer"
    version: str | None = None
    label: str | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


@pytest.fixture
def select() -> TrafficSelector:
    repository = ModelRepository(SOURCE_MODEL_REPOSITORY)
    return TrafficSelector(policy_source(repository, "breast_cancer"), repository.resolve)


def test_it_declares_the_sticky_header(select: TrafficSelector) -> None:
    assert select.headers == ("x-user-id",)


def test_a_path_version_or_label_bypasses_the_split(select: TrafficSelector) -> None:
    assert {select(Ctx(version="2")) for _ in range(200)} == {"2"}
    assert {select(Ctx(label="stable")) for _ in range(200)} == {"1"}
    with pytest.raises(ModelNotFound):
        select(Ctx(version="7"))


def test_sticky_callers_keep_their_version_and_follow_the_split(select: TrafficSelector) -> None:
    chosen = {}
    for i in range(10_000):
        key = f"user-{i}"
        chosen[key] = select(Ctx(attributes={"x-user-id": key}))
        expected = "2" if sticky_bucket("breast_cancer", key) >= 9_000 else "1"
        assert chosen[key] == expected
    assert abs(Counter(chosen.values())["2"] - 1_000) < 120  # 4 sd of Binomial(10,000, 0.1)
    for key, version in list(chosen.items())[:500]:
        assert select(Ctx(attributes={"x-user-id": key})) == version


def test_without_the_header_assignment_is_random_at_the_weights(select: TrafficSelector) -> None:
    rng.reseed()
    counts = Counter(select(Ctx()) for _ in range(10_000))
    assert abs(counts["2"] - 1_000) < 120
    counts = Counter(select(Ctx(attributes={"x-user-id": ""})) for _ in range(2_000))
    assert counts["1"] and counts["2"]  # an empty key is no key
