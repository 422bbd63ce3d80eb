"""`AWS::Serverless::StateMachine` resources as the local runtime runs them.

The definition is taken from the template itself (never a copy): `Definition` with its
`DefinitionSubstitutions` applied as CloudFormation does (`${Name}` in any string),
the substitutions' values resolved locally (a function's ARN names the local function).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template.intrinsics import ACCOUNT_ID, Resolver

STATE_MACHINE = "AWS::Serverless::StateMachine"


@dataclass(frozen=True)
class StateMachine:
    logical_id: str
    name: str
    arn: str
    definition: Mapping[str, Any]


def parse_state_machine(
    logical_id: str, resource: Mapping[str, Any], resolver: Resolver
) -> StateMachine:
    props = resource.get("Properties") or {}
    where = logical_id
    if "Definition" not in props:
        raise LocalError(
            f"{where}: only an inline Definition runs locally (DefinitionUri is not read)"
        )
    name = props.get("Name")
    resolved_name = str(resolver.resolve(name, f"{where}.Name")) if name else logical_id
    substitutions = {
        str(k): str(resolver.resolve(v, f"{where}.DefinitionSubstitutions.{k}"))
        for k, v in (props.get("DefinitionSubstitutions") or {}).items()
    }
    definition = _substitute(props["Definition"], substitutions)
    if not isinstance(definition, dict):
        raise LocalError(f"{where}: Definition must be a mapping")
    arn = f"arn:aws:states:{resolver.region}:{ACCOUNT_ID}:stateMachine:{resolved_name}"
    return StateMachine(logical_id, resolved_name, arn, definition)


def _substitute(definition: Any, substitutions: Mapping[str, str]) -> Any:
    text = json.dumps(definition)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            return match.group(0)  # left as it is, as CloudFormation does
        return json.dumps(substitutions[name])[1:-1]  # escaped for the JSON string

    return json.loads(re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text))
