from __future__ import annotations

from typing import Any

import orjson
import pytest
from lambda_functions import FunctionSpec, Handler, load_handler, load_template


@pytest.fixture(autouse=True)
def _mangum_loop(lambda_event_loop: None) -> None:
    """Every handler here runs through Mangum (see the root conftest)."""


@pytest.fixture(scope="session")
def function_specs() -> dict[str, FunctionSpec]:
    return load_template()


@pytest.fixture(scope="session")
def handler_modules(function_specs: dict[str, FunctionSpec]) -> dict[str, Any]:
    """Every API function's module, loaded once; the index forwards in-process to the models."""
    loaded: dict[str, Handler] = {}
    modules: dict[str, Any] = {}
    for logical_id, spec in function_specs.items():
        if spec.routes:
            loaded[logical_id], modules[logical_id] = load_handler(spec)

    def invoke(function: str, payload: bytes) -> tuple[bytes, str | None]:
        return orjson.dumps(loaded[function](orjson.loads(payload), None)), None

    modules["IndexFunction"]._forward._invoker = invoke
    return modules


@pytest.fixture(scope="session")
def handlers(handler_modules: dict[str, Any]) -> dict[str, Handler]:
    """Every API function's real handler."""
    return {logical_id: module.handler for logical_id, module in handler_modules.items()}
