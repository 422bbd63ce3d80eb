"""The subcommands through `lambdaserve`'s own entry point: exit codes and one-line errors."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaserve.cli import main
from lambdaserve.modelkit.project import Project


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_add_list_check_remove(
    project: Project, sources: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(project.template.parent)
    code, out, _ = _run(
        ["add-model", "cancer_gbm", str(sources["lightgbm"][0]), "--root", root], capsys
    )
    assert code == 0 and "wired CancerGbmFunction" in out
    code, out, _ = _run(["models", "--root", root], capsys)
    assert code == 0 and "cancer_gbm" in out and "CancerGbmFunction" in out
    code, out, _ = _run(["check", "--root", root], capsys)
    assert code == 0 and "ok: 6 models" in out
    code, out, _ = _run(["remove-model", "cancer_gbm", "--root", root], capsys)
    assert code == 0 and "removed model cancer_gbm 1" in out


def test_a_refused_source_exits_1_with_one_line(
    project: Project, sources: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(project.template.parent)
    code, out, err = _run(["add-model", "x", str(sources["not_a_model"]), "--root", root], capsys)
    assert code == 1 and out == ""
    assert err.startswith("lambdaserve add-model: ") and err.count("\n") == 1


def test_check_exits_1_listing_problems(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.models / "iris" / "labels.json").write_text('{"stable": "9"}')
    code, _, err = _run(["check", "--root", str(project.template.parent)], capsys)
    assert code == 1 and "problem: labels.json of model 'iris'" in err
