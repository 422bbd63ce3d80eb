"""The Lambda adapter: the same answers as Mangum's own, eagerly or through the loop."""

from __future__ import annotations

import asyncio
import contextvars
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from mangum import Mangum
from mangum.handlers import HTTPGateway

from lambdaserve.rest.adapter import EagerHTTPCycle, HttpApiEvent, lambda_adapter, run_eagerly

EVENTS = Path(__file__).resolve().parents[3] / "events" / "api"
SEEN: contextvars.ContextVar[str] = contextvars.ContextVar("seen", default="unset")


@pytest.fixture(autouse=True)
def _loop(lambda_event_loop: None) -> None:
    """Mangum (and so the adapter) runs on the thread's current event loop."""


def event(path: str = "/echo", body: Any = None, method: str = "POST") -> dict[str, Any]:
    """A real API Gateway HTTP API (payload 2.0) event from events/, re-pointed at `path`."""
    doc: dict[str, Any] = json.loads((EVENTS / "breast_cancer_predict.json").read_text())
    doc["rawPath"] = doc["requestContext"]["http"]["path"] = path
    doc["requestContext"]["http"]["method"] = method
    doc["routeKey"] = f"{method} {path}"
    doc["body"] = json.dumps(body if body is not None else {"x": 1})
    doc["isBase64Encoded"] = False
    return doc


def app() -> FastAPI:
    api = FastAPI()

    @api.post("/echo")
    async def echo(request: Request) -> JSONResponse:
        SEEN.set("echo")
        return JSONResponse({"got": await request.json()})

    @api.post("/task")
    async def task(request: Request) -> JSONResponse:
        return JSONResponse({"task": asyncio.current_task() is not None})

    @api.post("/sleep")
    async def sleep(request: Request) -> JSONResponse:
        SEEN.set("before")
        await asyncio.sleep(0.001)  # really suspends: the loop finishes the request
        return JSONResponse({"seen": SEEN.get(), "task": asyncio.current_task() is not None})

    @api.post("/yield")
    async def bare_yield(request: Request) -> JSONResponse:
        await asyncio.sleep(0)
        return JSONResponse({"ok": True})

    @api.post("/thread")
    async def thread(request: Request) -> JSONResponse:
        loop = asyncio.get_running_loop()
        value = await loop.run_in_executor(None, threading.current_thread)
        return JSONResponse({"worker": value is not threading.current_thread()})

    @api.post("/fails-late")
    async def fails_late(request: Request) -> JSONResponse:
        await asyncio.sleep(0.001)
        raise RuntimeError("boom")

    @api.post("/fails")
    async def fails(request: Request) -> JSONResponse:
        raise RuntimeError("boom")

    return api


@pytest.mark.parametrize(
    "path", ["/echo", "/sleep", "/yield", "/thread", "/missing", "/fails", "/fails-late"]
)
def test_answers_as_mangum_does(path: str) -> None:
    """Status, headers and body identical to Mangum's, whether the request suspends or not."""
    asgi = app()
    ours = lambda_adapter(asgi)(event(path), None)
    theirs = Mangum(asgi, lifespan="off")(event(path), None)
    assert ours == theirs
    assert ours["statusCode"] == {"/missing": 404, "/fails": 500, "/fails-late": 500}.get(path, 200)


def test_an_eager_request_runs_without_a_loop_turn() -> None:
    asgi = app()
    answer = lambda_adapter(asgi)(event("/echo", {"a": [1, 2]}), None)
    assert json.loads(answer["body"]) == {"got": {"a": [1, 2]}}
    answer = lambda_adapter(asgi)(event("/task"), None)
    assert json.loads(answer["body"]) == {"task": False}  # no task was made for it
    assert SEEN.get() == "unset"  # the request's context variables stay in its own context
    loop = asyncio.get_event_loop()
    assert not loop.is_running()
    assert asyncio._get_running_loop() is None


def test_a_suspended_request_finishes_as_a_task_in_its_own_context() -> None:
    answer = lambda_adapter(app())(event("/sleep"), None)
    # set before the suspension, read after it: one context for both halves
    assert json.loads(answer["body"]) == {"seen": "before", "task": True}
    assert SEEN.get() == "unset"


def test_many_requests_in_a_row_reuse_one_loop() -> None:
    handler = lambda_adapter(app())
    loop = asyncio.get_event_loop()
    for i in range(20):
        path = "/sleep" if i % 3 == 0 else "/echo"
        assert handler(event(path), None)["statusCode"] == 200
    assert asyncio.get_event_loop() is loop


def test_a_coroutine_yielding_a_non_future_is_told_so() -> None:
    class Odd:
        def __await__(self) -> Any:
            yield "not a future"

    caught: list[BaseException] = []

    async def coro() -> None:
        try:
            await Odd()
        except RuntimeError as exc:
            caught.append(exc)

    run_eagerly(coro())
    assert "not a future" in str(caught[0])


def test_the_scope_is_built_once() -> None:
    ev = event("/echo")
    config = lambda_adapter(app()).config
    theirs = HTTPGateway(ev, None, config)
    assert theirs.scope is not theirs.scope  # Mangum's property builds it on every read
    ours = HttpApiEvent(ev, None, config)
    assert ours.scope is ours.scope
    assert ours.scope == theirs.scope
    assert EagerHTTPCycle(ours.scope, ours.body)(app())["status"] == 200


def test_reading_past_the_body_is_a_disconnect_not_a_hang() -> None:
    """Mangum's queue would block such an app forever; the request is over, so say so."""

    async def reads_twice(scope: Any, receive: Any, send: Any) -> None:
        first, second = await receive(), await receive()
        body = json.dumps([first["type"], second["type"]]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    answer = lambda_adapter(reads_twice)(event("/any"), None)
    assert json.loads(answer["body"]) == ["http.request", "http.disconnect"]
