from __future__ import annotations

import pytest

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelNotFound
from lambdaserve.repository import ModelManifest
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


def test_a_slot_is_resolved_once_per_name_and_shared_by_version_and_label(
    plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, str | None]] = []
    resolver = Resolver(plane)
    real = resolver.target

    def counted(model: str, version: str | None) -> tuple[str, ModelManifest]:
        asked.append((model, version))
        return real(model, version)

    monkeypatch.setattr(resolver, "target", counted)
    groups = Groups(resolver)
    stable, manifest = groups.slot("breast_cancer", "stable")
    again, _ = groups.slot("breast_cancer", "stable")
    one, _ = groups.slot("breast_cancer", "1")
    latest, _ = groups.slot("breast_cancer", "2")
    assert stable is again is one and latest is not stable
    assert (stable.model, stable.version, manifest.version) == ("breast_cancer", "1", "1")
    assert asked == [("breast_cancer", "stable"), ("breast_cancer", "1"), ("breast_cancer", "2")]
    assert [(g.model, g.version) for g in groups] == [
        ("breast_cancer", "1"),
        ("breast_cancer", "2"),
    ]


def test_an_unknown_name_has_no_slot_and_leaves_no_group(plane: DataPlane) -> None:
    groups = Groups(Resolver(plane))
    with pytest.raises(ModelNotFound):
        groups.slot("iris", "beta")
    assert len(groups) == 0
    with pytest.raises(RuntimeError, match="Resolver"):
        Groups().slot("iris", "1")
