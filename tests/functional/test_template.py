"""template.yaml and the model repository agree: one function per model, owning its routes."""

from __future__ import annotations

import json
from pathlib import Path

from lambda_functions import FunctionSpec

from lambdaserve.batch.keys import INCOMING, SUFFIXES
from lambdaserve.local import template
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


def test_every_batch_format_triggers_the_batch_function_in_either_case() -> None:
    # S3 filters are case-sensitive; the job reads suffixes in any case.
    tpl = template.load(Path(__file__).resolve().parents[2] / "template.yaml")
    triggers = {(t.function, t.prefix, t.suffix) for t in tpl.s3_triggers}
    wanted = {
        ("BatchPredictFunction", INCOMING, spelled)
        for suffix, _, _ in SUFFIXES
        for spelled in (suffix, suffix.upper())
    }
    assert triggers == wanted
