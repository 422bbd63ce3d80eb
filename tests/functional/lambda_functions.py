"""Load the real Lambda handlers declared in template.yaml, in-process, with their environment.

Each function's module is executed fresh under the environment the template gives it
(Globals merged), with /opt paths pointed at the source tree, exactly once per session.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdaserve.local import template

ROOT = Path(__file__).resolve().parents[2]

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, str]
    routes: tuple[str, ...]  # API Gateway route keys, e.g. "GET /models/iris"


def load_template(path: Path = ROOT / "template.yaml") -> dict[str, FunctionSpec]:
    """The API functions, read by the same template reader `lambdaserve` uses."""
    return {
        fn.logical_id: FunctionSpec(
            fn.logical_id,
            fn.code_uri,
            fn.handler,
            dict(fn.environment),
            tuple(route.key for route in fn.routes),
        )
        for fn in template.load(path).functions.values()
    }


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
