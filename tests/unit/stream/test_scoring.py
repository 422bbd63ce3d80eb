from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelRepository
from lambdaserve.stream import scoring
from lambdaserve.stream.grouping import Group, Member

ROWS = np.array(
    [[5.1, 3.5, 1.4, 0.2], [6.4, 2.9, 4.3, 1.3], [5.9, 3.0, 5.1, 1.8], [6.7, 3.1, 4.4, 1.4]]
)


@pytest.fixture
def calls(plane: DataPlane, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Rows of every model call the real plane makes (a spy: the call itself is unchanged)."""
    seen: list[int] = []
    real = plane.predict_block

    def counted(ctx: Any, inputs: Any) -> Any:
        seen.append(len(next(iter(inputs.values()))))
        return real(ctx, inputs)

    monkeypatch.setattr(plane, "predict_block", counted)
    yield seen


def group(*members: tuple[np.ndarray, bool]) -> Group:
    g = Group("iris", "1")
    for i, (rows, single) in enumerate(members):
        g.members.append(Member(i, f"m{i}", f"c{i}", rows.tolist(), single))
    return g


def test_a_group_is_one_model_call_and_matches_each_message_alone(
    plane: DataPlane, calls: list[int], repository: ModelRepository
) -> None:
    g = group((ROWS[:1], True), (ROWS[1:3], False), (ROWS[3:], True))
    docs = scoring.score(plane, g)
    assert calls == [4]
    model = plane.model("iris", "1")
    labels = model.predict({"input": ROWS.astype(np.float32)})["label"].tolist()
    assert all(d is not None for d in docs)
    assert [d["message_id"] for d in docs if d] == ["m0", "m1", "m2"]
    assert [d["id"] for d in docs if d] == ["c0", "c1", "c2"]
    assert docs[0] and docs[0]["prediction"] == labels[0] and docs[0]["version"] == "1"
    assert docs[1] and [p["prediction"] for p in docs[1]["predictions"]] == labels[1:3]
    assert docs[2] and docs[2]["label"] == repository.manifest("iris", "1").class_labels[labels[3]]


def test_a_refused_block_is_rescored_per_message_so_only_the_bad_one_fails(
    plane: DataPlane, calls: list[int]
) -> None:
    bad = ROWS[:1].copy()
    bad[0, 2] = np.inf
    docs = scoring.score(plane, group((ROWS[:1], True), (bad, True), (ROWS[1:2], True)))
    assert calls == [3, 1, 1, 1]  # the block, then each message alone
    assert docs[0] and "prediction" in docs[0]
    assert docs[1] and docs[1]["status"] == 400 and "NaN or infinite" in docs[1]["error"]
    assert docs[2] and "prediction" in docs[2]


def test_a_value_beyond_float32_is_an_error_for_that_message_only(plane: DataPlane) -> None:
    huge = np.array([[1e300, 3.5, 1.4, 0.2]])
    docs = scoring.score(plane, group((ROWS[:1], True), (huge, True)))
    assert docs[0] and "prediction" in docs[0]
    assert docs[1] and docs[1]["status"] == 400


def test_rows_that_are_not_numbers_fail_their_message_and_keep_the_order(
    plane: DataPlane, calls: list[int]
) -> None:
    g = group((ROWS[:1], True), (ROWS[1:2], True), (ROWS[2:3], False))
    g.members[1] = Member(1, "m1", "c1", [[1.0, "x", 2.0, 3.0]], True)
    g.members[2] = Member(2, "m2", "c2", [[1.0, 2.0], [1.0, 2.0]], False)
    docs = scoring.score(plane, g)
    assert calls == [1]  # the good message alone: the bad ones never reach the model
    assert [d["message_id"] for d in docs if d] == ["m0", "m1", "m2"]
    assert docs[0] and "prediction" in docs[0]
    assert docs[1] and "features: values must be numbers" in docs[1]["error"]
    assert docs[2] and "expects 4 features per row, got 2" in docs[2]["error"]


def test_our_own_model_failure_retries_the_group_instead_of_blaming_it(
    plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ctx: Any, inputs: Any) -> Any:
        raise ModelLoadError("the model file is damaged")

    monkeypatch.setattr(plane, "predict_block", broken)
    assert scoring.score(plane, group((ROWS[:1], True), (ROWS[1:2], True))) == [None, None]
