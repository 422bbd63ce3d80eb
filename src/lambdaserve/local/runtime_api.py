"""The Lambda Runtime API of one execution environment, served on a loopback port.

What `AWS_LAMBDA_RUNTIME_API` points at in Lambda, so the function process can run AWS's
own runtime interface client (awslambdaric) unchanged: it long-polls `invocation/next`,
posts the result to `invocation/{id}/response` or `.../error`, an import failure to
`init/error`, and (SnapStart, `AWS_LAMBDA_INITIALIZATION_TYPE=snap-start`) asks
`restore/next` between its before-snapshot and after-restore hooks.

The parent side (`Environment`) waits here for the runtime to become ready and hands it one
invocation at a time; every wait has a deadline and ends early if the process exits.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler

from lambdaserve.local.server import bind

PREFIX = "/2018-06-01/runtime"
MAX_RESPONSE = 6 * 1024 * 1024  # synchronous response limit
ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type"
_INVOCATION = re.compile(rf"^{PREFIX}/invocation/([^/]+)/(response|error)$")


class Timeout(Exception):
    """No answer before the deadline."""


class Exited(Exception):
    """The runtime process ended (crash, sys.exit, killed) without answering."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"exit status {returncode}")
        self.returncode = returncode


class InitFailed(Exception):
    """The runtime reported an init error (`payload` is its error JSON) and exited."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(payload.decode(errors="replace"))
        self.payload = payload


@dataclass(frozen=True)
class InvokeRequest:
    """One invocation as the Runtime API hands it to the runtime (headers of `next`)."""

    request_id: str
    payload: bytes
    function_arn: str
    deadline_ms: int  # epoch milliseconds
    trace_id: str = ""
    client_context: str | None = None  # JSON, as Lambda passes it on
    cognito_identity: str | None = None  # JSON

    def headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "application/json",
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
        }
        if self.trace_id:
            headers["Lambda-Runtime-Trace-Id"] = self.trace_id
        if self.client_context:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity:
            headers["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return headers


def new_trace_id() -> str:
    """An X-Ray trace header like the one Lambda passes (not sampled)."""
    return f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)};Sampled=0"


@dataclass(frozen=True)
class Outcome:
    """What the runtime answered for one invocation."""

    ok: bool
    payload: bytes
    duration_ms: float  # from handing out the event to receiving the answer


def _error_json(body: bytes, error_type: str | None) -> bytes:
    """The runtime's error body as Lambda returns it; a non-JSON body is wrapped."""
    try:
        json.loads(body)
        return body
    except ValueError:
        message = body.decode(errors="replace")
        return json.dumps({"errorType": error_type or "Unknown", "errorMessage": message}).encode()


class RuntimeApi:
    """Runtime API state of one environment: init, then one invocation at a time."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._cond = threading.Condition()
        self._ready_at: float | None = None  # monotonic time of the first `next`
        self._init_error: bytes | None = None
        self._restore_error: bytes | None = None
        self.restored = False  # SnapStart: the runtime asked for restore/next
        self._exit_code: int | None = None
        self._exited = False
        self._closed = False
        self._pending: InvokeRequest | None = None
        self._current: str | None = None
        self._handed_at = 0.0
        self._outcome: Outcome | None = None
        self._server = bind(host, 0, _handler(self), "Lambda Runtime API", "")
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="runtime-api", daemon=True
        )
        self._thread.start()

    @property
    def address(self) -> str:
        """`host:port`, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._server.server_address[:2]
        return f"{host!s}:{port}"

    # -- the parent's side
    def wait_ready(self, deadline: float) -> float:
        """Block until init is done; returns when (monotonic) the runtime first asked `next`."""
        with self._cond:
            while True:
                if self._init_error is not None:
                    raise InitFailed(self._init_error)
                if self._restore_error is not None:
                    raise InitFailed(self._restore_error)
                if self._ready_at is not None:
                    return self._ready_at
                self._wait(deadline)

    def invoke(self, request: InvokeRequest, deadline: float) -> Outcome:
        """Hand `request` to the runtime's `next` and wait for its response or error."""
        with self._cond:
            if self._exited:
                raise Exited(self._exit_code)
            self._pending, self._outcome = request, None
            self._cond.notify_all()
            try:
                while self._outcome is None:
                    self._wait(deadline)
                return self._outcome
            finally:
                self._pending = None  # not taken in time: the environment is discarded

    def exited(self, returncode: int | None) -> None:
        """The process ended: wake whoever waits on it."""
        with self._cond:
            self._exited, self._exit_code = True, returncode
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def _wait(self, deadline: float) -> None:
        if self._exited:
            raise Exited(self._exit_code)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout
        self._cond.wait(remaining)

    # -- the runtime's side (called by the HTTP handler threads)
    def next_invocation(self) -> InvokeRequest | None:
        """Long poll: the next invocation, or None when the environment is going away."""
        with self._cond:
            if self._ready_at is None:
                self._ready_at = time.monotonic()
                self._cond.notify_all()
            while self._pending is None or self._current is not None:
                if self._closed:
                    return None
                self._cond.wait()
            request = self._pending
            self._current, self._handed_at = request.request_id, time.monotonic()
            return request

    def answer(self, request_id: str, ok: bool, body: bytes, error_type: str | None) -> int:
        """A response or error for `request_id`; returns the HTTP status for the runtime."""
        with self._cond:
            if request_id != self._current or self._outcome is not None:
                return 400
            duration = (time.monotonic() - self._handed_at) * 1000
            status = 202
            if ok and len(body) > MAX_RESPONSE:
                ok, status = False, 413
                body = json.dumps(
                    {
                        "errorType": "Function.ResponseSizeTooLarge",
                        "errorMessage": "Response payload size exceeded maximum allowed "
                        f"payload size ({MAX_RESPONSE} bytes).",
                    }
                ).encode()
            elif not ok:
                body = _error_json(body, error_type)
            self._outcome = Outcome(ok, body, duration)
            self._current = self._pending = None
            self._cond.notify_all()
            return status

    def init_error(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            self._init_error = _error_json(body, error_type)
            self._cond.notify_all()

    def restore_next(self) -> None:
        """SnapStart: before-snapshot hooks ran; the snapshot is 'taken and restored' now."""
        with self._cond:
            self.restored = True
            self._cond.notify_all()

    def restore_error(self, body: bytes, error_type: str | None) -> None:
        with self._cond:
            self._restore_error = _error_json(body, error_type)
            self._cond.notify_all()


def _handler(api: RuntimeApi) -> type[BaseHTTPRequestHandler]:
    class RuntimeApiHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lambdaserve-runtime"
        # Headers and body leave in two writes: with Nagle's algorithm the body waited for
        # the runtime client's delayed ACK (~40 ms), added to every warm invocation's
        # Duration (and the cost report's billed durations).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(
            self, status: int, body: object, headers: Mapping[str, str] | None = None
        ) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers = headers or {}
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if "Content-Type" not in headers:
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _not_found(self) -> None:
            self._send(404, {"errorType": "NotFound", "errorMessage": f"no route {self.path}"})

        def do_GET(self) -> None:
            if self.path == f"{PREFIX}/invocation/next":
                request = api.next_invocation()
                if request is None:
                    self.close_connection = True
                    self._send(410, {"errorType": "Gone", "errorMessage": "shutting down"})
                else:
                    self._send(200, request.payload, request.headers())
            elif self.path == f"{PREFIX}/restore/next":
                api.restore_next()
                self._send(200, b"", {"Content-Type": "application/json"})
            else:
                self._not_found()

        def do_POST(self) -> None:
            body = self._body()
            error_type = self.headers.get(ERROR_TYPE_HEADER)
            match = _INVOCATION.match(self.path)
            if match:
                request_id, kind = match.groups()
                status = api.answer(request_id, kind == "response", body, error_type)
                if status == 400:
                    message = f"Invalid request ID: {request_id}"
                    self._send(400, {"errorType": "InvalidRequestID", "errorMessage": message})
                elif status == 413:
                    message = f"Response payload larger than {MAX_RESPONSE} bytes"
                    self._send(413, {"errorType": "RequestEntityTooLarge", "errorMessage": message})
                else:
                    self._send(202, {"status": "OK"})
            elif self.path == f"{PREFIX}/init/error":
                api.init_error(body, error_type)
                self._send(202, {"status": "OK"})
            elif self.path == f"{PREFIX}/restore/error":
                api.restore_error(body, error_type)
                self._send(202, {"status": "OK"})
            else:
                self._not_found()

    return RuntimeApiHandler
