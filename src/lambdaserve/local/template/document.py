"""Read a template file: YAML with CloudFormation's short-form tags, as a plain mapping.

`!Ref X` becomes `{"Ref": "X"}` and `!Sub s` becomes `{"Fn::Sub": s}` (the long form), so
the rest of the reader sees one shape. Every problem is one readable LocalError.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from lambdaserve.local.errors import LocalError


def _yaml_loader() -> type[Any]:
    """A SafeLoader that reads `!Tag value` as CloudFormation's long form (`Fn::Tag`)."""
    import yaml  # dev-only dependency; imported here so importing this module stays cheap

    class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", construct)
    return CfnLoader


def load_document(path: Path) -> dict[str, Any]:
    """Parse a template file into its mapping (with a `Resources` mapping)."""
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LocalError(f"template not found: {path}") from None
    except OSError as exc:
        raise LocalError(f"cannot read template {path}: {exc.strerror}") from None
    try:
        doc = yaml.load(text, Loader=_yaml_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise LocalError(f"{path} does not parse: {where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise LocalError(f"{path} does not parse: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise LocalError(f"{path} is not a SAM template: no Resources mapping")
    return doc


def stack_name(template_dir: Path) -> str:
    """samconfig.toml's default stack name, else the directory's name (as `sam deploy`)."""
    config = template_dir / "samconfig.toml"
    try:
        data = tomllib.loads(config.read_text())
        name = data["default"]["global"]["parameters"]["stack_name"]
        if isinstance(name, str) and name:
            return name
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        pass
    return template_dir.resolve().name or "local"
