"""Reading the file: YAML errors, non-templates, stack names from samconfig.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import LocalError

from .texts import write


def test_parse_error_says_where(tmp_path: Path) -> None:
    path = write(tmp_path, "Resources:\n  A: [1, 2\n  B: 3\n")
    with pytest.raises(LocalError, match=r"does not parse: line \d+, column \d+"):
        template.load(path)


def test_missing_and_non_sam_templates(tmp_path: Path) -> None:
    with pytest.raises(LocalError, match="template not found"):
        template.load(tmp_path / "nope.yaml")
    with pytest.raises(LocalError, match="no Resources mapping"):
        template.load(write(tmp_path, "just: text\n"))


def test_short_form_tags_become_the_long_form(tmp_path: Path) -> None:
    doc = template.load_document(
        write(tmp_path, "Resources:\n  A: {Type: X, Properties: {B: !Ref C, D: !GetAtt E.Arn}}\n")
    )
    assert doc["Resources"]["A"]["Properties"] == {
        "B": {"Ref": "C"},
        "D": {"Fn::GetAtt": ["E", "Arn"]},
    }


def test_stack_name_from_samconfig_else_the_directory(tmp_path: Path) -> None:
    assert template.stack_name(tmp_path) == tmp_path.name
    (tmp_path / "samconfig.toml").write_text('[default.global.parameters]\nstack_name = "x"\n')
    assert template.stack_name(tmp_path) == "x"
    (tmp_path / "samconfig.toml").write_text("not toml [")
    assert template.stack_name(tmp_path) == tmp_path.name
