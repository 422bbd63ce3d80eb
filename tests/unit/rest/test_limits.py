"""Rows per request and JSON nesting depth: refused with a JSON 4xx on every protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.errors import InvalidInput, PayloadTooLarge
from lambdaserve.rest.app import create_model_app
from lambdaserve.rest.limits import Limits, json_depth
from lambdaserve.settings import Settings

ROW = [5.1, 3.5, 1.4, 0.2]


def nesting(value: Any) -> int:
    """Reference depth of a parsed JSON value (containers count, scalars do not)."""
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    return 0


# Strings full of brackets, quotes and backslashes: none of them may count.
tricky_text = st.text(st.sampled_from('[]{}"\\ab\n'), max_size=6)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | tricky_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky_text, inner, max_size=4),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_depth_counts_containers_and_ignores_brackets_inside_strings(value: Any) -> None:
    assert json_depth(orjson.dumps(value)) == nesting(value)


@settings(max_examples=100, deadline=None)
@given(value=json_values, cap=st.integers(min_value=0, max_value=8))
def test_check_depth_refuses_exactly_the_documents_deeper_than_the_cap(
    value: Any, cap: int
) -> None:
    document = orjson.dumps(value)
    if nesting(value) > cap:
        with pytest.raises(InvalidInput, match=f"the limit is {cap}"):
            Limits(json_depth=cap).check_depth(document)
    else:
        Limits(json_depth=cap).check_depth(document)


def test_rows_are_the_first_dimension_of_each_input() -> None:
    limits = Limits(rows=3)
    limits.check_rows({"x": np.zeros((3, 4)), "s": np.float32(1.0)})  # a scalar has no rows
    with pytest.raises(PayloadTooLarge, match="input 'y' has 4 rows; the limit is 3"):
        limits.check_rows({"x": np.zeros((1, 4)), "y": np.zeros((4,))})


@pytest.fixture(scope="module")
def client(models_dir: Path) -> TestClient:
    settings = Settings(
        model_repository=models_dir, model_name="iris", max_rows=3, max_json_depth=5
    )
    return TestClient(create_model_app(settings), raise_server_exceptions=False)


def v2_body(rows: int, shape: list[int] | None = None) -> dict[str, Any]:
    data = [v for _ in range(rows) for v in ROW]
    tensor = {"name": "input", "shape": shape or [rows, 4], "datatype": "FP32", "data": data}
    return {"inputs": [tensor]}


@pytest.mark.parametrize(
    ("path", "ok", "over"),
    [
        ("/models/iris/predict", {"instances": [ROW] * 3}, {"instances": [ROW] * 4}),
        ("/v1/models/iris:predict", {"instances": [ROW] * 3}, {"instances": [ROW] * 4}),
        ("/v1/models/iris:predict", {"inputs": [ROW] * 3}, {"inputs": [ROW] * 4}),
        ("/v2/models/iris/infer", v2_body(3), v2_body(4)),
    ],
    ids=["simple", "tfserving-rows", "tfserving-columnar", "v2"],
)
def test_rows_over_the_cap_get_413_on_every_protocol(
    client: TestClient, path: str, ok: dict[str, Any], over: dict[str, Any]
) -> None:
    assert client.post(path, json=ok).status_code == 200
    response = client.post(path, json=over)
    assert response.status_code == 413
    assert response.json() == {
        "error": "input 'input' has 4 rows; the limit is 3 per request "
        "(split the request, or use a batch job)"
    }


def test_a_v2_shape_declaring_too_many_rows_is_refused_without_data(client: TestClient) -> None:
    body = {"inputs": [{"name": "input", "shape": [10**9, 0], "datatype": "FP32", "data": []}]}
    response = client.post("/v2/models/iris/infer", json=body)
    assert response.status_code == 413
    assert "1,000,000,000 rows" in response.json()["error"]


def deep(levels: int) -> Any:
    value: Any = ROW
    for _ in range(levels - 1):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/models/iris/predict", {"instances": deep(5)}),
        ("/v1/models/iris:predict", {"inputs": deep(5)}),
        ("/v2/models/iris/infer", {"inputs": [], "parameters": {"a": deep(5)}}),
        ("/models/iris/feedback", [{"inference_id": "x", "actual": deep(5)}]),
    ],
    ids=["simple", "tfserving", "v2", "feedback"],
)
def test_json_deeper_than_the_cap_gets_400(client: TestClient, path: str, body: Any) -> None:
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert response.json()["error"].endswith("levels deep; the limit is 5")


def test_brackets_in_strings_do_not_count_toward_depth(client: TestClient) -> None:
    body = {"inputs": v2_body(1)["inputs"], "id": '[[[[[[[[[[[[\\"{{{{{{{{'}
    response = client.post("/v2/models/iris/infer", json=body)
    assert response.status_code == 200
    assert response.json()["id"] == body["id"]


def test_v2_binary_tensors_are_not_read_as_json(client: TestClient) -> None:
    """Only the JSON part counts: raw float bytes may hold any number of bracket bytes."""
    values = np.full((1, 4), np.frombuffer(b"[[[[", dtype="<f4")[0], dtype="<f4")
    head = orjson.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [1, 4],
                    "datatype": "FP32",
                    "parameters": {"binary_data_size": 16},
                }
            ]
        }
    )
    response = client.post(
        "/v2/models/iris/infer",
        content=head + values.tobytes(),
        headers={
            "content-type": "application/octet-stream",
            "inference-header-content-length": str(len(head)),
        },
    )
    assert response.status_code == 200
