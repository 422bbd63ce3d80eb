"""One execution environment: a real process running awslambdaric against its Runtime API."""

from __future__ import annotations

import json
import os
import select
import time
from collections.abc import Iterator

import pytest

from lambdaserve.local import template
from lambdaserve.local.environment import Environment, Exited, InitFailed, Timeout
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.runtime_api import InvokeRequest

pytestmark = pytest.mark.slow  # starts function processes


@pytest.fixture
def local(small_template: template.Template) -> Iterator[LocalLambda]:
    runtime = LocalLambda(small_template)
    yield runtime
    runtime.close()


@pytest.fixture
def lines() -> list[str]:
    return []


def start(local: LocalLambda, function: str, lines: list[str]) -> Environment:
    return Environment(local.sandbox(function), lines.append)


def request(n: int = 1, payload: bytes = b"{}") -> InvokeRequest:
    return InvokeRequest(
        request_id=f"req-{n}",
        payload=payload,
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:X",
        deadline_ms=int(time.time() * 1000) + 10_000,
    )


def test_init_then_invocations_in_the_same_process(local: LocalLambda, lines: list[str]) -> None:
    environment = start(local, "LogLines", lines)
    try:
        init_ms = environment.init(30)
        assert init_ms > 0
        first = environment.invoke(request(1, b'{"n": 1}'), 10)
        second = environment.invoke(request(2, b'{"n": 2}'), 10)
        assert first.ok and second.ok and first.duration_ms >= 0
        assert "aws_request_id=req-1" in json.loads(first.payload)["context"]
        # Every line the handler wrote has arrived when invoke returns (START/END frame them).
        assert "printed 1" in lines and "printed 2" in lines
        warned = [line for line in lines if "warned 1" in line]
        assert warned and warned[0].startswith("[WARNING]\t") and "\treq-1\t" in warned[0]
        memory = environment.max_memory_mb()
        assert memory is not None and memory > 5
    finally:
        environment.close()
    assert not environment.alive


def test_json_log_format_is_the_runtime_clients(local: LocalLambda, lines: list[str]) -> None:
    environment = start(local, "JsonLogs", lines)
    try:
        environment.init(30)
        environment.invoke(request(7, b'{"n": 7}'), 10)
    finally:
        environment.close()
    record = json.loads(next(line for line in lines if "warned 7" in line))
    assert record["level"] == "WARNING" and record["message"] == "warned 7"
    assert record["requestId"] == "req-7" and record["logger"] == "app"


def test_init_failure_is_the_runtime_clients_error(local: LocalLambda, lines: list[str]) -> None:
    environment = start(local, "Broken", lines)
    with pytest.raises(InitFailed) as failed:
        environment.init(30)
    error = json.loads(failed.value.payload)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert (
        error["errorMessage"]
        == "Unable to import module 'nosuchmodule': No module named 'nosuchmodule'"
    )
    assert any(line.startswith("[ERROR] Runtime.ImportModuleError") for line in lines)
    assert not environment.alive


def test_timeout_and_exit_kill_the_environment(local: LocalLambda, lines: list[str]) -> None:
    sleepy = start(local, "Sleepy", lines)
    sleepy.init(30)
    with pytest.raises(Timeout):
        sleepy.invoke(request(1, b'{"seconds": 30}'), 0.5)
    assert not sleepy.alive
    leave = start(local, "Leave", lines)
    leave.init(30)
    with pytest.raises(Exited) as exited:
        leave.invoke(request(2), 10)
    assert exited.value.returncode == 3


def test_kill_stops_the_processes_the_function_started(
    local: LocalLambda, lines: list[str]
) -> None:
    environment = start(local, "Spawn", lines)
    environment.init(30)
    outcome = environment.invoke(request(), 10)
    child = int(json.loads(outcome.payload)["pid"])
    exited = os.pidfd_open(child)  # readable once the process has ended
    try:
        assert not select.select([exited], [], [], 0)[0]
        environment.kill()
        assert select.select([exited], [], [], 30)[0], "the function's child outlived it"
    finally:
        os.close(exited)
