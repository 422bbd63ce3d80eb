"""The Runtime API of one environment, driven over HTTP as a runtime client drives it."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from lambdaserve.local.runtime_api import (
    PREFIX,
    Exited,
    InitFailed,
    InvokeRequest,
    Outcome,
    RuntimeApi,
    Timeout,
)


@pytest.fixture
def api() -> Iterator[RuntimeApi]:
    served = RuntimeApi()
    yield served
    served.close()


def call(
    api: RuntimeApi,
    method: str,
    path: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(api.address, timeout=30)
    connection.request(method, f"{PREFIX}{path}", body=body, headers=dict(headers or {}))
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, dict(response.getheaders()), data


def soon(seconds: float = 30) -> float:
    return time.monotonic() + seconds


REQUEST = InvokeRequest(
    request_id="req-1",
    payload=b'{"a": 1}',
    function_arn="arn:aws:lambda:us-east-1:123456789012:function:Fn",
    deadline_ms=1_900_000_000_000,
    trace_id="Root=1-abc;Sampled=0",
    client_context='{"custom": {"k": "v"}}',
)


def invoke_in_background(api: RuntimeApi, request: InvokeRequest = REQUEST) -> Future[Outcome]:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(api.invoke, request, soon())
    pool.shutdown(wait=False)
    return future


def test_next_carries_the_event_and_lambdas_headers(api: RuntimeApi) -> None:
    outcome = invoke_in_background(api)
    status, headers, body = call(api, "GET", "/invocation/next")
    assert status == 200 and body == b'{"a": 1}'
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "req-1"
    assert headers["Lambda-Runtime-Deadline-Ms"] == "1900000000000"
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:Fn")
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc;Sampled=0"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom": {"k": "v"}}'
    assert "Lambda-Runtime-Cognito-Identity" not in headers
    assert headers["Content-Type"] == "application/json"
    status, _, _ = call(api, "POST", "/invocation/req-1/response", b'{"ok": true}')
    assert status == 202
    result = outcome.result(timeout=30)
    assert result.ok and result.payload == b'{"ok": true}' and result.duration_ms >= 0


def test_the_first_next_ends_init(api: RuntimeApi) -> None:
    ready: Future[float] = ThreadPoolExecutor(max_workers=1).submit(api.wait_ready, soon())
    waiting = threading.Thread(target=call, args=(api, "GET", "/invocation/next"), daemon=True)
    before = time.monotonic()
    waiting.start()
    assert ready.result(timeout=30) >= before  # the parked `next` ends when the API closes


def test_error_is_the_runtimes_json_and_a_stale_id_is_refused(api: RuntimeApi) -> None:
    outcome = invoke_in_background(api)
    call(api, "GET", "/invocation/next")
    status, _, body = call(api, "POST", "/invocation/other/response", b"{}")
    assert status == 400 and json.loads(body)["errorType"] == "InvalidRequestID"
    error = {"errorMessage": "boom", "errorType": "ValueError", "stackTrace": []}
    status, _, _ = call(
        api,
        "POST",
        "/invocation/req-1/error",
        json.dumps(error).encode(),
        {"Lambda-Runtime-Function-Error-Type": "ValueError"},
    )
    assert status == 202
    result = outcome.result(timeout=30)
    assert not result.ok and json.loads(result.payload) == error
    status, _, _ = call(api, "POST", "/invocation/req-1/response", b"{}")
    assert status == 400  # answered already


def test_a_non_json_error_body_is_wrapped(api: RuntimeApi) -> None:
    outcome = invoke_in_background(api)
    call(api, "GET", "/invocation/next")
    call(
        api,
        "POST",
        "/invocation/req-1/error",
        b"plain text",
        {"Lambda-Runtime-Function-Error-Type": "X.Y"},
    )
    assert json.loads(outcome.result(timeout=30).payload) == {
        "errorType": "X.Y",
        "errorMessage": "plain text",
    }


def test_a_response_over_6_mb_fails_the_invocation(api: RuntimeApi) -> None:
    outcome = invoke_in_background(api)
    call(api, "GET", "/invocation/next")
    status, _, _ = call(api, "POST", "/invocation/req-1/response", b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413
    result = outcome.result(timeout=30)
    assert not result.ok
    assert json.loads(result.payload)["errorType"] == "Function.ResponseSizeTooLarge"


def test_init_error_reaches_wait_ready(api: RuntimeApi) -> None:
    error = {
        "errorMessage": "Unable to import module 'app'",
        "errorType": "Runtime.ImportModuleError",
    }
    status, _, _ = call(api, "POST", "/init/error", json.dumps(error).encode())
    assert status == 202
    with pytest.raises(InitFailed) as failed:
        api.wait_ready(soon())
    assert json.loads(failed.value.payload) == error


def test_snapstart_restore_comes_before_the_first_next(api: RuntimeApi) -> None:
    """awslambdaric's order with AWS_LAMBDA_INITIALIZATION_TYPE=snap-start: before-snapshot
    hooks, restore/next, after-restore hooks, then invocation/next."""
    assert not api.restored
    status, _, _ = call(api, "GET", "/restore/next")
    assert status == 200 and api.restored
    with pytest.raises(Timeout):
        api.wait_ready(time.monotonic() + 0.05)  # restored, but not yet polling
    status, _, _ = call(
        api, "POST", "/restore/error", b'{"errorType": "Runtime.AfterRestoreError"}'
    )
    assert status == 202
    with pytest.raises(InitFailed):
        api.wait_ready(soon())


def test_waits_end_when_the_process_exits_or_the_deadline_passes(api: RuntimeApi) -> None:
    with pytest.raises(Timeout):
        api.invoke(REQUEST, time.monotonic() + 0.05)
    api.exited(3)
    with pytest.raises(Exited) as exited:
        api.wait_ready(soon())
    assert exited.value.returncode == 3
    with pytest.raises(Exited):
        api.invoke(REQUEST, soon())


def test_unknown_paths_are_404(api: RuntimeApi) -> None:
    assert call(api, "GET", "/nothing")[0] == 404
    assert call(api, "POST", "/nothing")[0] == 404


def test_connections_send_without_nagle_delay(
    api: RuntimeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A response is written as headers, then body: Nagle's algorithm would hold the body
    # until the client's delayed ACK (~40 ms per warm invocation).
    options: list[tuple[int, int, int]] = []
    setsockopt = socket.socket.setsockopt

    client = threading.current_thread()

    def record(sock: socket.socket, level: int, option: int, value: Any) -> None:
        if threading.current_thread() is not client:  # the server's side (http.client sets it)
            options.append((level, option, int(value)))
        setsockopt(sock, level, option, value)

    monkeypatch.setattr(socket.socket, "setsockopt", record)
    status, _, _ = call(api, "GET", "/nothing")
    assert status == 404
    assert (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1) in options
