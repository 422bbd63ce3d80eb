"""The Lambda entry adapter of the HTTP functions: Mangum, without an event-loop turn per request.

Two costs of Mangum's per-request path are not the app's, and are measured away here (README,
Performance):

- Mangum's `HTTPGateway` builds the ASGI scope (headers lower-cased and encoded, path,
  server) in a property and reads it twice per request, once only to tell a v2 event from
  a v1 one on the way out. `HttpApiEvent` builds it once.
- `HTTPCycle` runs the app with `loop.run_until_complete(loop.create_task(...))`: a task,
  the loop's start and stop, and two selector polls, about a quarter of what a constant
  FastAPI app costs under Mangum. Yet a request that awaits nothing slow (every route
  here: the model runs in the request's own thread) completes in the task's first step.
  `EagerHTTPCycle` takes that first step itself, with the loop set as the running loop
  and in a fresh context, as a task's step would be; only a request that really suspends
  (awaits a future) is handed to the loop, which finishes it as a task in the same
  context. Asyncio's own eager tasks (3.12) do the same, but only inside a running loop.
  Its `asyncio.Queue` of request messages, which nothing waits on, is a plain list too.

Everything else (event parsing, the response's shape, error handling: an app that raises
answers 500) is Mangum's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import Coroutine
from functools import cached_property
from io import BytesIO
from typing import Any

from mangum import Mangum
from mangum.handlers import HTTPGateway
from mangum.protocols.http import HTTPCycle, HTTPCycleState
from mangum.types import ASGI, LambdaContext, LambdaEvent, Message, Response, Scope


class HttpApiEvent(HTTPGateway):
    """Mangum's handler of API Gateway HTTP API events (payload v2 and v1), scope built once."""

    @cached_property
    def scope(self) -> Scope:
        built: Scope = HTTPGateway.scope.fget(self)  # type: ignore[attr-defined]
        return built


class _Inbox:
    """What `HTTPCycle` reads the app's `receive` from: the request, then the disconnect.

    Mangum uses an `asyncio.Queue`, whose construction (an Event, its loop binding) costs
    more than the rest of the cycle's setup; nothing here ever waits on it. A `receive`
    with nothing left answers `http.disconnect` (the response is complete, or the app read
    past its one body message), where the queue would block the request forever.
    """

    __slots__ = ("_messages",)

    def __init__(self, first: Message) -> None:
        self._messages = [first]

    async def get(self) -> Message:
        return self._messages.pop(0) if self._messages else {"type": "http.disconnect"}

    async def put(self, message: Message) -> None:
        self._messages.append(message)


_HTTP_LOGGER = logging.getLogger("mangum.http")  # HTTPCycle looks it up per request


class EagerHTTPCycle(HTTPCycle):
    def __init__(self, scope: Scope, body: bytes) -> None:
        # HTTPCycle.__init__'s state, with the inbox above for its queue.
        self.scope = scope
        self.buffer = BytesIO()
        self.state = HTTPCycleState.REQUEST
        self.logger = _HTTP_LOGGER
        self.app_queue = _Inbox(  # type: ignore[assignment]
            {"type": "http.request", "body": body, "more_body": False}
        )

    def __call__(self, app: ASGI) -> Response:
        run_eagerly(self.run(app))
        return {"status": self.status, "headers": self.headers, "body": self.body}


def run_eagerly(coro: Coroutine[Any, Any, None]) -> None:
    """Run `coro` to completion: in this thread if it never suspends, else on the loop."""
    loop = asyncio.get_event_loop()  # Mangum made one at import, and set it
    context = contextvars.copy_context()
    previous = asyncio._get_running_loop()
    asyncio._set_running_loop(loop)
    try:
        waiting = context.run(coro.send, None)
    except StopIteration:
        return
    finally:
        asyncio._set_running_loop(previous)
    loop.run_until_complete(loop.create_task(_resume(coro, waiting), context=context))


async def _resume(coro: Coroutine[Any, Any, None], waiting: Any) -> None:
    """Finish `coro` as a task would: wait for what it yielded, then step it again.

    A future resumes the coroutine with nothing sent: the coroutine reads the future's
    result or exception itself (what `Future.__await__` does after its `yield`).
    """
    while True:
        error: BaseException | None = None
        if waiting is None:  # a bare yield (asyncio.sleep(0)): one turn of the loop
            await asyncio.sleep(0)
        elif asyncio.isfuture(waiting):
            # The coroutine marked the future as awaited (yielded it); a task clears the mark
            # and waits for it, and so do we. Its outcome is the coroutine's to read.
            waiting._asyncio_future_blocking = False
            with contextlib.suppress(BaseException):
                await waiting
        else:  # what a task says to a coroutine that yields something else
            error = RuntimeError(f"ASGI app yielded {waiting!r}, not a future")
        try:
            waiting = coro.send(None) if error is None else coro.throw(error)
        except StopIteration:
            return


class LambdaAdapter(Mangum):
    """Mangum with lifespan off (init happens at import), driving requests eagerly."""

    def __init__(self, app: ASGI, **options: Any) -> None:
        super().__init__(app, lifespan="off", custom_handlers=[HttpApiEvent], **options)

    def __call__(self, event: LambdaEvent, context: LambdaContext) -> dict[str, Any]:
        handler = self.infer(event, context)
        response = EagerHTTPCycle(handler.scope, handler.body)(self.app)
        answer: dict[str, Any] = handler(response)
        return answer


def lambda_adapter(app: ASGI, **options: Any) -> Mangum:
    """The Lambda handler of an HTTP function's ASGI `app`."""
    return LambdaAdapter(app, **options)
