from __future__ import annotations

import pytest

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelNotFound
from lambdaserve.stream.grouping import Groups, Member, Resolver


def test_versions_and_labels_resolve_to_the_concrete_version(plane: DataPlane) -> None:
    resolve = Resolver(plane)
    assert resolve("breast_cancer", "stable") == resolve("breast_cancer", "1") == "1"
    assert resolve("breast_cancer", "canary") == "2"
    assert resolve("breast_cancer", None) == plane.resolve("breast_cancer")
    assert resolve("iris", "1") == "1"


@pytest.mark.parametrize(
    ("model", "version", "message"),
    [
        ("nope", None, "model 'nope' not found"),
        ("iris", "7", "no version or label '7'"),
        ("breast_cancer", "beta", "no version or label 'beta'"),
    ],
)
def test_unknown_models_versions_and_labels(
    plane: DataPlane, model: str, version: str | None, message: str
) -> None:
    with pytest.raises(ModelNotFound, match=message):
        Resolver(plane)(model, version)


def test_groups_keep_event_order_within_and_first_seen_order_across() -> None:
    groups = Groups()
    row = [[0.0, 0.0, 0.0, 0.0]]
    for index, key in enumerate([("iris", "1"), ("bc", "2"), ("iris", "1"), ("bc", "1")]):
        groups.add(*key, Member(index, f"m{index}", None, row, True))
    assert [(g.model, g.version, [m.index for m in g.members]) for g in groups] == [
        ("iris", "1", [0, 2]),
        ("bc", "2", [1]),
        ("bc", "1", [3]),
    ]
    assert len(groups) == 3
