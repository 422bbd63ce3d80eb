"""rest/http.py: content types, the body cap, LeanRoute, OpenAPI helpers, JSON rendering."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from starlette.requests import ClientDisconnect
from starlette.routing import Match

from lambdaserve.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType
from lambdaserve.rest.http import (
    BINARY_TYPES,
    JSON_TYPES,
    JSONResponse,
    LeanRoute,
    check_content_type,
    json_body,
    path_parameters,
    read_body,
)


def request(headers: dict[str, str], messages: list[dict[str, Any]] | None = None) -> Request:
    """A bare ASGI request, as Mangum hands one over: lower-case byte header names."""
    pending = list(messages or [])

    async def receive() -> dict[str, Any]:
        return pending.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/x",
        "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in headers.items()],
    }
    return Request(scope, receive)


def body(headers: dict[str, str], *chunks: bytes, limit: int = 100) -> bytes:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    declared = headers.get("content-length")
    return asyncio.run(read_body(request(headers, messages), limit, declared))


@pytest.mark.parametrize(
    "content_type",
    [None, "", "application/json", "Application/JSON; charset=utf-8", "text/json", "a/ld+json"],
)
def test_json_types_and_no_type_are_accepted(content_type: str | None) -> None:
    check_content_type(content_type)


def test_other_types_are_415_naming_the_type() -> None:
    with pytest.raises(UnsupportedMediaType, match="'text/csv'") as e:
        check_content_type("text/csv; header=present")
    assert e.value.status == 415
    with pytest.raises(UnsupportedMediaType):
        check_content_type("application/octet-stream")
    with pytest.raises(UnsupportedMediaType, match="'text/plain'"):
        check_content_type("text/plain;charset=UTF-8")
    check_content_type("application/octet-stream", JSON_TYPES + BINARY_TYPES)


def test_body_in_one_or_several_messages() -> None:
    assert body({}, b'{"a": 1}') == b'{"a": 1}'
    assert body({}, b'{"a"', b": 1", b"}") == b'{"a": 1}'


def test_body_over_the_limit_is_413_declared_or_not() -> None:
    with pytest.raises(PayloadTooLarge, match="exceeds the 100-byte limit"):
        body({"content-length": "101"}, b"x")
    with pytest.raises(PayloadTooLarge):
        body({}, b"x" * 60, b"x" * 41)
    assert body({"content-length": "100"}, b"x" * 100) == b"x" * 100
    # A content-length that is not a number is not trusted either way: the bytes count.
    assert body({"content-length": "lots"}, b"x") == b"x"


def test_empty_body_is_a_400() -> None:
    with pytest.raises(InvalidInput, match="request body is empty"):
        body({}, b"")


def test_a_disconnect_mid_body_stops_reading() -> None:
    r = request({}, [{"type": "http.request", "body": b"x", "more_body": True}])
    r._receive = _disconnect_after(r._receive)
    with pytest.raises(ClientDisconnect):
        asyncio.run(read_body(r, 100))


def _disconnect_after(first: Any) -> Any:
    calls = [0]

    async def receive() -> dict[str, Any]:
        calls[0] += 1
        return await first() if calls[0] == 1 else {"type": "http.disconnect"}

    return receive


def test_json_response_renders_numpy_with_orjson() -> None:
    response = JSONResponse({"a": np.array([[1.5, 2]], dtype=np.float32), "n": np.int64(3)}, 201)
    assert response.status_code == 201
    assert orjson.loads(response.body) == {"a": [[1.5, 2.0]], "n": 3}
    assert response.headers["content-type"] == "application/json"


def test_path_parameters_and_json_body_document_lean_routes() -> None:
    assert [p["name"] for p in path_parameters("/v1/models/{model}/labels/{label_verb}")] == [
        "model",
        "label_verb",
    ]
    assert path_parameters("/health") == []
    doc = json_body({"type": "object"}, {"a": 1})
    assert doc["requestBody"]["content"]["application/json"] == {
        "schema": {"type": "object"},
        "example": {"a": 1},
    }


def test_lean_route_takes_the_bare_request_and_refuses_other_prefixes_cheaply() -> None:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse({"model": request.path_params["model"]})

    route = LeanRoute("/models/{model}/predict", echo, methods=["POST"])
    app = FastAPI()
    app.router.routes.append(route)
    client = TestClient(app)
    assert client.post("/models/iris/predict").json() == {"model": "iris"}
    outside = {"type": "http", "path": "/v2/models/iris/infer", "method": "POST", "root_path": ""}
    assert route.matches(outside) == (Match.NONE, {})
    inside = {**outside, "path": "/models/iris/predict"}
    match, child = route.matches(inside)
    assert match == Match.FULL and child["path_params"] == {"model": "iris"}
    parameters = app.openapi()["paths"]["/models/{model}/predict"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["model"]
