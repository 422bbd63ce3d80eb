"""Evaluate a template's CloudFormation Rules for parameter values, as CloudFormation does.

CloudFormation checks `Rules` before it changes anything: a rule whose RuleCondition holds
and one of whose Assertions is false refuses the whole deployment with that assertion's
AssertDescription. cfn-lint does not evaluate them, so the template's refusals (SnapStart
with provisioned concurrency or large ephemeral storage) are tested through this, and a
local tool can refuse the same parameter overrides. Never shipped in the Lambda layer.

The template is the parsed document with intrinsic functions in their long form
({"Fn::Equals": [...]}, {"Ref": name}), as cfnlint.decode and samtranslator produce it.
Rule functions: Fn::And, Fn::Or, Fn::Not, Fn::Equals, Fn::Contains, Fn::EachMemberEquals,
Fn::EachMemberIn, Ref to a parameter. A parameter's value is a string (a Number
parameter's 0 is "0"); literals keep their YAML type, so a rule must compare with "0", not
0, as CloudFormation's own examples quote them - an unquoted number never matches here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class RuleError(ValueError):
    """The rule uses something CloudFormation would not accept in a rule."""


@dataclass(frozen=True)
class Violation:
    rule: str
    description: str


def parameter_values(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, str]:
    """Each parameter's value: the override, else its default (a missing one is an error)."""
    values: dict[str, str] = {}
    declared = template.get("Parameters", {}) or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise RuleError(f"unknown parameter(s): {', '.join(unknown)}")
    for name, spec in declared.items():
        if name in overrides:
            values[name] = str(overrides[name])
        elif "Default" in spec:
            default = spec["Default"]
            values[name] = (
                ",".join(map(str, default)) if isinstance(default, list) else str(default)
            )
        else:
            raise RuleError(f"parameter {name} has no default and no value")
    return values


def _value(node: Any, values: Mapping[str, str]) -> Any:
    if isinstance(node, Mapping):
        if set(node) == {"Ref"}:
            name = node["Ref"]
            if name not in values:
                raise RuleError(f"Ref to {name!r}: rules may only refer to parameters")
            return values[name]
        return _condition(node, values)
    if isinstance(node, list):
        return [_value(item, values) for item in node]
    return node


def _items(raw: Any) -> list[Any]:
    return raw if isinstance(raw, list) else str(raw).split(",")


def _condition(node: Any, values: Mapping[str, str]) -> bool:
    if not isinstance(node, Mapping) or len(node) != 1:
        raise RuleError(f"not a rule function: {node!r}")
    ((function, args),) = node.items()
    if function == "Fn::Not":
        return not _condition(args[0], values)
    if function == "Fn::And":
        return all(_condition(arg, values) for arg in args)
    if function == "Fn::Or":
        return any(_condition(arg, values) for arg in args)
    if function == "Fn::Equals":
        left, right = (_value(arg, values) for arg in args)
        return bool(left == right)
    if function == "Fn::Contains":
        haystack, needle = (_value(arg, values) for arg in args)
        return needle in _items(haystack)
    if function == "Fn::EachMemberEquals":
        members, wanted = (_value(arg, values) for arg in args)
        return all(m == wanted for m in _items(members))
    if function == "Fn::EachMemberIn":
        members, allowed = (_value(arg, values) for arg in args)
        return set(_items(members)) <= set(_items(allowed))
    raise RuleError(f"{function} is not a rule function")


def violations(template: Mapping[str, Any], overrides: Mapping[str, str]) -> list[Violation]:
    """The assertions CloudFormation would refuse the deployment with, in template order."""
    values = parameter_values(template, overrides)
    found = []
    for name, rule in (template.get("Rules", {}) or {}).items():
        if "RuleCondition" in rule and not _condition(rule["RuleCondition"], values):
            continue
        for assertion in rule.get("Assertions", []):
            if not _condition(assertion["Assert"], values):
                found.append(Violation(name, str(assertion.get("AssertDescription", name))))
    return found
