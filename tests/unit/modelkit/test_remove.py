"""remove-model undoes add-model; versions still named by labels or traffic are refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from modelkit_helpers import snapshot

from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.remove import remove_model


def _quiet(_: str) -> None:
    pass


def test_remove_model_undoes_add_model(project: Project, sources: dict[str, Any]) -> None:
    before = snapshot(project)
    add_model(project, AddOptions("wine", sources["wine"][0], label="stable"), _quiet)
    add_model(project, AddOptions("wine", sources["wine"][0]), _quiet)
    assert remove_model(project, "wine", report=_quiet) == ["1", "2"]
    assert snapshot(project) == before


def test_removing_one_version_keeps_the_model_and_rewrites_its_events(
    project: Project, sources: dict[str, Any]
) -> None:
    add_model(project, AddOptions("wine", sources["wine"][0], label="stable"), _quiet)
    add_model(project, AddOptions("wine", sources["wine"][0], label="canary"), _quiet)
    template = project.template.read_text()
    with pytest.raises(ModelKitError, match="version 2 of 'wine' is still named by label 'canary'"):
        remove_model(project, "wine", "2", report=_quiet)
    (project.models / "wine" / "labels.json").write_text('{"stable": "1"}')
    assert remove_model(project, "wine", "2", report=_quiet) == ["2"]
    assert not (project.models / "wine" / "2").exists()
    assert project.template.read_text() == template
    assert not (project.events / "wine_tf_predict_label_canary.json").exists()
    event = json.loads((project.events / "wine_predict_version.json").read_text())
    assert "/versions/1/" in event["rawPath"]


def test_a_version_the_traffic_policy_uses_is_refused(project: Project) -> None:
    (project.models / "breast_cancer" / "labels.json").write_text('{"stable": "1"}')
    (project.models / "breast_cancer" / "traffic.json").write_text(
        json.dumps({"split": {"stable": 90, "2": 10}})
    )
    before = snapshot(project)
    with pytest.raises(ModelKitError, match=r"still named by traffic\.json"):
        remove_model(project, "breast_cancer", "2", report=_quiet)
    assert snapshot(project) == before


def test_removing_a_shipped_model_removes_function_index_entries_and_events(
    project: Project,
) -> None:
    remove_model(project, "iris", report=_quiet)
    text = project.template.read_text()
    assert "IrisFunction" not in text and '"iris"' not in text
    assert not list(project.events.glob("iris_*.json"))
    assert not (project.models / "iris").exists()


@pytest.mark.parametrize(
    ("name", "version", "message"),
    [("nope", None, "not in the repository"), ("iris", "7", "has no version 7")],
)
def test_unknown_models_and_versions_are_one_line(
    project: Project, name: str, version: str | None, message: str
) -> None:
    with pytest.raises(ModelKitError, match=message):
        remove_model(project, name, version, report=_quiet)
