"""models: every version with labels, size, signature and serving function."""

from __future__ import annotations

import json

from lambdaserve.modelkit.listing import listing, render
from lambdaserve.modelkit.project import Project


def test_lists_every_version_with_its_function(project: Project) -> None:
    rows = listing(project)
    assert [(r.model, r.version) for r in rows] == [
        ("breast_cancer", "1"),
        ("breast_cancer", "2"),
        ("diabetes", "1"),
        ("digits", "1"),
        ("iris", "1"),
        ("reviews", "1"),
    ]
    cancer = rows[0]
    assert cancer.labels == ["stable"] and cancer.default
    assert cancer.function == "BreastCancerFunction"
    assert cancer.inputs == ["input:FP32[?,30]"]
    assert cancer.bytes == (project.models / "breast_cancer" / "1" / "model.onnx").stat().st_size
    assert not rows[1].default and rows[1].labels == ["canary"]


def test_renders_a_table_and_json(project: Project) -> None:
    rows = listing(project)
    table = render(rows)
    assert table.splitlines()[0].split() == [
        "MODEL",
        "VERSION",
        "LABELS",
        "TASK",
        "SIZE",
        "INPUTS",
        "OUTPUTS",
        "FUNCTION",
    ]
    assert "IrisFunction" in table
    assert json.loads(render(rows, as_json=True))[4]["model"] == "iris"
