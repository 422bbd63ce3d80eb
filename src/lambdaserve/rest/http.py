"""Request reading and response writing shared by every router: size cap, content type, orjson."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import fastapi.responses
import orjson
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from lambdaserve.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

# Not text/plain: it is CORS-safelisted, so any web page could make a visitor's browser POST
# to the API without a preflight (why FastAPI stopped parsing JSON sent as other types).
JSON_TYPES = ("application/json", "text/json")
BINARY_TYPES = ("application/octet-stream",)
# TF Serving ignores Content-Type, and its documented examples are `curl -d '{...}'`, which
# sends curl's default form type: TF Serving routes accept it (the body must still be JSON),
# and only they: it is CORS-safelisted too, a trade made for TF Serving clients alone.
TF_SERVING_TYPES = (*JSON_TYPES, "application/x-www-form-urlencoded")
_DUMP_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class JSONResponse(fastapi.responses.JSONResponse):
    """orjson rendering, numpy arrays included; several times faster than the stdlib.

    A FastAPI JSONResponse, so the OpenAPI document says its routes answer JSON (any other
    response class is documented as a string).
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_DUMP_OPTIONS)


class LeanRoute(APIRoute):
    """A route whose endpoint takes the bare Request and returns a Response itself.

    FastAPI's per-request machinery (dependency solving with pydantic validation of path
    parameters, two AsyncExitStacks, route-level exception wrapping) costs more than the
    model's own inference, and typed parameters cost cold starts (their pydantic fields,
    and the `pydantic.v1` import FastAPI makes to inspect them: ~100 ms). Endpoints read
    `request.path_params` and validate bodies themselves; errors still reach the app's
    exception handlers, and the OpenAPI document still lists every path parameter.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        extra = dict(kwargs.get("openapi_extra") or {})
        extra.setdefault("parameters", path_parameters(path))
        kwargs["openapi_extra"] = extra
        super().__init__(path, endpoint, **kwargs)
        handler = cast(Callable[[Request], Awaitable[Response]], endpoint)

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(Request(scope, receive, send))
            await response(scope, receive, send)

        self.app = app
        self._literal_prefix = path.split("{", 1)[0]

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The router tries every route's regex in turn until one matches (~1.5 µs each);
        # a path outside this route's literal prefix is refused with one string test.
        if (
            scope["type"] == "http"
            and not scope.get("root_path")
            and not scope["path"].startswith(self._literal_prefix)
        ):
            return Match.NONE, {}
        return super().matches(scope)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        # Called by APIRoute.__init__; the endpoint is already a request handler.
        return cast(Callable[[Request], Coroutine[Any, Any, Response]], self.endpoint)


_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


def path_parameters(path: str) -> list[dict[str, Any]]:
    """OpenAPI `parameters` for a path's `{segments}` (FastAPI cannot see a LeanRoute's)."""
    return [
        {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
        for n in _PATH_PARAM.findall(path)
    ]


def check_content_type(content_type: str | None, allowed: tuple[str, ...] = JSON_TYPES) -> None:
    """No Content-Type is fine (TF Serving clients send none); one not `allowed` is a 415.

    Takes the header's value: the pipeline reads every header it needs in one pass over
    the ASGI scope (`request.headers` would build a Headers object and lower-case and
    encode the key on every lookup).
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if media and media not in allowed and not media.endswith("+json"):
        raise UnsupportedMediaType(f"unsupported Content-Type {media!r}; send application/json")


async def read_body(request: Request, limit: int, content_length: str | None = None) -> bytes:
    """The whole body, refused early when the declared `content_length` is over `limit`."""
    declared = content_length
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body exceeds the {limit:,}-byte limit")
    # The ASGI messages read directly: Request.body() goes through an async generator and
    # its bookkeeping (~15 µs); under Mangum the whole body is one message.
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await request.receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body exceeds the {limit:,}-byte limit")
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if not body:
        raise InvalidInput("request body is empty; send a JSON object")
    return body


def json_body(schema: dict[str, Any], example: Any) -> dict[str, Any]:
    """OpenAPI `openapi_extra` documenting a JSON request body (LeanRoutes read it by hand)."""
    content = {"application/json": {"schema": schema, "example": example}}
    return {"requestBody": {"required": True, "content": content}}
