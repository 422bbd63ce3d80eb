"""template.yaml and the model repository agree: one function per model, owning its routes."""

from __future__ import annotations

import json

from lambda_functions import FunctionSpec

from lambdaserve.repository import ModelRepository

MODEL_ROUTES = (
    "GET /models/{m}",
    "ANY /models/{m}/{proxy+}",
    "GET /v1/models/{m}",
    "ANY /v1/models/{m}/{proxy+}",
    "GET /v2/models/{m}",
    "ANY /v2/models/{m}/{proxy+}",
)


def test_one_function_per_model_with_its_routes(
    function_specs: dict[str, FunctionSpec], repository: ModelRepository
) -> None:
    by_model = {
        s.environment["MODEL_NAME"]: s
        for s in function_specs.values()
        if "MODEL_NAME" in s.environment
    }
    assert sorted(by_model) == repository.names()
    for name, spec in by_model.items():
        assert spec.code_uri.name == "model_api"
        assert set(spec.routes) == {r.replace("{m}", name) for r in MODEL_ROUTES}


def test_route_keys_are_unique(function_specs: dict[str, FunctionSpec]) -> None:
    keys = [k for s in function_specs.values() for k in s.routes]
    assert len(keys) == len(set(keys))


def test_index_forwards_to_every_model_function(
    function_specs: dict[str, FunctionSpec], repository: ModelRepository
) -> None:
    index = function_specs["IndexFunction"]
    assert "ANY /{proxy+}" in index.routes
    functions = json.loads(index.environment["LAMBDASERVE_MODEL_FUNCTIONS"])
    assert sorted(functions) == repository.names()
    for name, logical_id in functions.items():
        assert function_specs[logical_id].environment["MODEL_NAME"] == name
