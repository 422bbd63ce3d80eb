from __future__ import annotations

from typing import Any

import orjson
import pytest
from lambda_functions import FunctionSpec, Handler, load_handler, load_template


@pytest.fixture(scope="session")
def function_specs() -> dict[str, FunctionSpec]:
    return load_template()


@pytest.fixture(scope="session")
def handlers(function_specs: dict[str, FunctionSpec]) -> dict[str, Handler]:
    """Every API function's real handler; the index forwards in-process to the model handlers."""
    loaded: dict[str, Handler] = {}
    modules: dict[str, Any] = {}
    for logical_id, spec in function_specs.items():
        if spec.routes:
            loaded[logical_id], modules[logical_id] = load_handler(spec)

    def invoke(function: str, payload: bytes) -> tuple[bytes, str | None]:
        return orjson.dumps(loaded[function](orjson.loads(payload), None)), None

    modules["IndexFunction"]._forward._invoker = invoke
    return loaded
