"""The prediction cache through the real handlers (Mangum, events/api/*.json bodies swapped).

One input sent through the seed-style, TF Serving and Open Inference routes is scored
twice (it is cached on its second miss, as deployed: CacheAdmitAfter=2): every later
request, on any protocol, is a hit that answers exactly what the model answered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from lambda_functions import FunctionSpec, Handler, route_owner

EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"
ROW = [6.05, 2.85, 4.65, 1.45]  # an iris row no other test sends


def event(name: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    text = json.dumps(body)
    doc["body"] = text
    doc["headers"] = {**doc["headers"], "content-length": str(len(text)), **headers}
    return doc


def call(
    handlers: dict[str, Handler], specs: dict[str, FunctionSpec], doc: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, str]]:
    response = handlers[route_owner(specs, doc["routeKey"])](doc, None)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"]), response["headers"]


@pytest.fixture
def row() -> list[float]:
    return list(ROW)


def test_one_input_is_scored_once_across_protocols(
    handlers: dict[str, Handler], function_specs: dict[str, FunctionSpec], row: list[float]
) -> None:
    simple, h1 = call(handlers, function_specs, event("iris_predict", {"features": row}))
    tf_body = {"instances": [row]}
    tf_miss, h2 = call(handlers, function_specs, event("iris_tf_predict", tf_body))
    tf, h3 = call(handlers, function_specs, event("iris_tf_predict", tf_body))
    v2_body = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": row}]}
    v2, h4 = call(handlers, function_specs, event("iris_v2_infer", v2_body))
    _, h5 = call(handlers, function_specs, event("iris_predict", {"features": row}))
    # first miss: remembered; second (another protocol, same input): cached; then hits
    assert [h["x-cache"] for h in (h1, h2, h3, h4, h5)] == ["miss", "miss", "hit", "hit", "hit"]
    assert {h["x-model-version"] for h in (h1, h2, h3, h4, h5)} == {"1"}
    assert tf_miss == tf
    probabilities = [simple["probabilities"][c] for c in ("setosa", "versicolor", "virginica")]
    # The same float32 values (TF Serving and V2 print them at float32 precision).
    as_f32 = np.float32
    assert list(map(as_f32, tf["predictions"][0]["probabilities"])) == list(
        map(as_f32, probabilities)
    )
    outputs = {o["name"]: o["data"] for o in v2["outputs"]}
    assert list(map(as_f32, outputs["probabilities"])) == list(map(as_f32, probabilities))
    assert outputs["label"] == [simple["prediction"]] == [tf["predictions"][0]["label"]]


def test_callers_can_bypass_the_cache(
    handlers: dict[str, Handler], function_specs: dict[str, FunctionSpec], row: list[float]
) -> None:
    row[0] += 0.5  # another fresh input
    first = event("iris_predict", {"features": row})
    assert call(handlers, function_specs, first)[1]["x-cache"] == "miss"
    assert call(handlers, function_specs, first)[1]["x-cache"] == "miss"  # now stored
    assert call(handlers, function_specs, first)[1]["x-cache"] == "hit"
    fresh = event("iris_predict", {"features": row}, **{"cache-control": "no-cache"})
    assert call(handlers, function_specs, fresh)[1]["x-cache"] == "bypass"
    # The other version of a model never answers from this one's entry: version 2 first,
    # then the unpinned request, which the 90/10 split sends to either version.
    bc = {"features": [float(i) for i in range(1, 31)]}
    versioned = event("breast_cancer_predict_version", bc)
    for _ in range(2):  # stored on its second miss
        body, headers = call(handlers, function_specs, versioned)
        assert headers["x-cache"] == "miss"
        assert body["version"] == headers["x-model-version"] == "2"
    body, headers = call(handlers, function_specs, event("breast_cancer_predict", bc))
    chosen = headers["x-model-version"]
    assert body["version"] == chosen
    assert headers["x-cache"] == ("hit" if chosen == "2" else "miss")
