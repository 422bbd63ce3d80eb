"""Load the real Lambda handlers declared in template.yaml, in-process, with their environment.

Each function's module is executed fresh under the environment the template gives it
(Globals merged), with /opt paths pointed at the source tree, exactly once per session.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from package_size import _CfnLoader  # noqa: E402

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, str]
    routes: tuple[str, ...]  # API Gateway route keys, e.g. "GET /models/iris"


def _resolve(value: Any, parameters: dict[str, str]) -> str:
    """Enough CloudFormation to read our environment values: !Ref parameter, !Sub ${Id}."""
    if isinstance(value, dict) and "Ref" in value:
        return parameters[value["Ref"]]
    if isinstance(value, dict) and "Sub" in value:
        return re.sub(
            r"\$\{([^}]+)\}", lambda m: parameters.get(m.group(1), m.group(1)), value["Sub"]
        )
    return str(value)


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, FunctionSpec]:
    doc = yaml.load(path.read_text(), Loader=_CfnLoader)
    parameters = {k: str(v.get("Default", "")) for k, v in doc.get("Parameters", {}).items()}
    global_env = doc["Globals"]["Function"].get("Environment", {}).get("Variables", {})
    specs = {}
    for logical_id, resource in doc["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        env = {**global_env, **props.get("Environment", {}).get("Variables", {})}
        routes = tuple(
            f"{ev['Properties']['Method'].upper()} {ev['Properties']['Path']}"
            for ev in props.get("Events", {}).values()
            if ev["Type"] == "HttpApi"
        )
        specs[logical_id] = FunctionSpec(
            logical_id,
            ROOT / props["CodeUri"],
            props["Handler"],
            {k: _resolve(v, parameters) for k, v in env.items()},
            routes,
        )
    return specs


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def load_handler(spec: FunctionSpec) -> tuple[Handler, Any]:
    module_name, attr = spec.handler.rsplit(".", 1)
    env = dict(spec.environment)
    env["LAMBDASERVE_MODEL_REPOSITORY"] = str(ROOT / "layers" / "models")
    with environment(env):
        loader_spec = importlib.util.spec_from_file_location(
            f"lambda_{spec.logical_id}", spec.code_uri / f"{module_name}.py"
        )
        assert loader_spec is not None and loader_spec.loader is not None
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    return getattr(module, attr), module


def route_owner(specs: dict[str, FunctionSpec], route_key: str) -> str:
    owners = [s.logical_id for s in specs.values() if route_key in s.routes]
    assert len(owners) == 1, f"route {route_key!r} is owned by {owners}"
    return owners[0]
