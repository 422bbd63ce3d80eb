"""check: a servable repository that the template follows, and each way that can break."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from lambdaserve.modelkit.check import check
from lambdaserve.modelkit.project import Project


def test_the_shipped_project_passes(project: Project) -> None:
    report = check(project)
    assert report.problems == []
    assert "ok: 5 models, repository and template agree" in report.lines
    assert any(line.startswith("sizes: largest function") for line in report.lines)
    # Every function's total against Lambda's limit, with what it is made of.
    sized = [line for line in report.lines if line.startswith("size: ")]
    assert len(sized) == 9 and any(line.startswith("size: ReviewsFunction ") for line in sized)
    assert any(line.startswith("size: StreamPredictFunction ") for line in sized)
    assert all(" MB of 250 MB (code " in line and "ModelsLayer" in line for line in sized)


def _dangling_label(p: Project) -> None:
    (p.models / "iris" / "labels.json").write_text('{"stable": "3"}')


def _dangling_traffic(p: Project) -> None:
    (p.models / "iris" / "traffic.json").write_text(json.dumps({"split": {"1": 50, "beta": 50}}))


def _shape_mismatch(p: Project) -> None:
    path = p.models / "iris" / "1" / "model.json"
    doc = json.loads(path.read_text())
    doc["inputs"][0]["shape"] = [-1, 5]
    path.write_text(json.dumps(doc))


def _wrong_sha(p: Project) -> None:
    path = p.models / "iris" / "1" / "model.json"
    doc = json.loads(path.read_text())
    doc["sha256"] = "0" * 64
    path.write_text(json.dumps(doc))


def _no_function(p: Project) -> None:
    text = p.template.read_text().replace("MODEL_NAME: digits", "MODEL_NAME: numbers")
    p.template.write_text(text)


def _missing_route(p: Project) -> None:
    text = p.template.read_text()
    lines = [ln for ln in text.splitlines(True) if "Path: /v2/models/iris," not in ln]
    p.template.write_text("".join(lines))


def _no_policy(p: Project) -> None:
    lines = p.template.read_text().splitlines(True)
    p.template.write_text("".join(ln for ln in lines if "!Ref IrisFunction}" not in ln))


def _broken_onnx(p: Project) -> None:
    (p.models / "iris" / "1" / "model.onnx").write_bytes(b"not onnx")


@pytest.mark.parametrize(
    ("breaks", "problem"),
    [
        (_dangling_label, "labels.json of model 'iris' points at missing versions: stable -> 3"),
        (_dangling_traffic, "iris: traffic.json names missing versions or labels: beta"),
        (_shape_mismatch, "model.json shape of input 'input' of 'iris' version 1 is [-1, 5]"),
        (_wrong_sha, "iris version 1: model.json sha256 does not match model.onnx"),
        (_no_function, "digits: no function in the template serves it"),
        (_missing_route, "IrisFunction: missing routes GET /v2/models/iris"),
        (_no_policy, "IndexFunction: no invoke policy for IrisFunction"),
        (_broken_onnx, "iris version 1: cannot load model 'iris' version 1"),
    ],
)
def test_each_problem_is_reported(
    project: Project, breaks: Callable[[Project], None], problem: str
) -> None:
    breaks(project)
    report = check(project)
    assert any(problem in p for p in report.problems), report.problems
    assert all("\n" not in p for p in report.problems)


def test_a_function_over_250_mb_is_reported(project: Project) -> None:
    with (project.models / "iris" / "1" / "padding.bin").open("wb") as handle:
        handle.truncate(200 * 2**20)  # sparse: no real disk used
    report = check(project)
    assert any("exceeds Lambda's 250 MB" in p for p in report.problems)
