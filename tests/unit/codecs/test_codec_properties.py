"""Every codec, through the whole request path, on bodies built to be almost right: TF
Serving rows and columns (named or not), classify/regress examples, V2 tensors of every
datatype with shapes that may not match their data, the seed-style forms. Whatever comes,
the answer is a 200 whose shape follows the request, or a 4xx `{"error": ...}`; never a 5xx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdaserve.datatypes import NUMPY_BY_DATATYPE
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]

scalars = st.one_of(
    st.floats(-1e3, 1e3),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
)
rows = st.lists(st.one_of(st.floats(-10, 10), scalars), min_size=0, max_size=6)
named = st.dictionaries(st.sampled_from([*IRIS, "input", "other"]), st.one_of(scalars, rows))
matrices = st.lists(st.one_of(rows, named, scalars), min_size=0, max_size=5)
anything = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
    max_leaves=12,
)

tf_bodies = st.fixed_dictionaries(
    {},
    optional={
        "instances": st.one_of(matrices, anything),
        "inputs": st.one_of(
            matrices, st.dictionaries(st.sampled_from(["input", "x"]), matrices), anything
        ),
        "examples": st.lists(st.one_of(named, anything), max_size=4),
        "context": st.one_of(named, anything),
        "signature_name": st.sampled_from(["serving_default", "", "other"]),
    },
)
simple_bodies = st.fixed_dictionaries(
    {},
    optional={
        "features": st.one_of(rows, named, anything),
        "instances": st.one_of(matrices, anything),
    },
)
tensor = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["input", "x", ""]),
        "datatype": st.sampled_from([*NUMPY_BY_DATATYPE, "FLOAT", "fp32"]),
        "shape": st.lists(st.integers(-1, 6), max_size=3),
    },
    optional={
        "data": st.one_of(rows, matrices, st.lists(st.text(max_size=3), max_size=8), scalars),
        "parameters": st.one_of(st.just({"binary_data_size": 4}), anything),
    },
)
v2_bodies = st.fixed_dictionaries(
    {"inputs": st.lists(tensor, max_size=2)},
    optional={
        "outputs": st.lists(
            st.fixed_dictionaries({"name": st.sampled_from(["label", "probabilities", "nope"])}),
            max_size=2,
        ),
        "parameters": anything,
        "id": st.one_of(st.text(max_size=4), st.integers()),
    },
)

ROUTES = [
    ("/v1/models/{m}:predict", tf_bodies),
    ("/v1/models/{m}:classify", tf_bodies),
    ("/v1/models/{m}:regress", tf_bodies),
    ("/models/{m}/predict", simple_bodies),
    ("/v2/models/{m}/infer", v2_bodies),
]


@pytest.fixture(scope="module", params=["iris", "diabetes"])
def client(request: pytest.FixtureRequest, models_dir: Path) -> TestClient:
    settings_ = Settings(model_repository=models_dir, model_name=request.param, cache_entries=0)
    app = create_model_app(settings_)
    app.state.model_name = request.param
    return TestClient(app, raise_server_exceptions=False)


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(range(len(ROUTES))), data=st.data())
def test_almost_right_bodies_get_200_or_a_json_4xx(
    client: TestClient, route: int, data: st.DataObject
) -> None:
    path, bodies = ROUTES[route]
    body: dict[str, Any] = data.draw(bodies)
    model = client.app.state.model_name  # type: ignore[attr-defined]
    # NaN and Infinity go out as Python's json writes them (not JSON: a 400 for the server).
    content = json.dumps(body, allow_nan=True)
    headers = {"content-type": "application/json"}
    response = client.post(path.format(m=model), content=content, headers=headers)
    assert response.status_code < 500, (body, response.text)
    answer = response.json()
    if response.status_code == 200:
        assert response.headers["x-model-version"]
        return
    assert set(answer) == {"error"} and isinstance(answer["error"], str), answer
    assert "Traceback" not in answer["error"] and "/" not in answer["error"].split(" on ")[0][:1]
