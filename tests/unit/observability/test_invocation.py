from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest

from lambdaserve.observability import logs
from lambdaserve.observability.invocation import current, lambda_handler


def test_each_invocation_records_its_request_id_before_the_inner_handler() -> None:
    seen: list[Any] = []

    def inner(event: Any, context: Any) -> dict[str, Any]:
        seen.append(current.request_id)
        return {"statusCode": 200, "event": event}

    handler = lambda_handler(inner)
    assert handler({"a": 1}, SimpleNamespace(aws_request_id="req-1")) == {
        "statusCode": 200,
        "event": {"a": 1},
    }
    handler({}, SimpleNamespace(aws_request_id="req-2"))
    handler({}, None)  # benchmarks and tests call handlers without a context
    assert seen == ["req-1", "req-2", None]


@pytest.fixture
def pristine_logging() -> Iterator[None]:
    """Undo what Powertools' Logger does to the `lambdaserve` logger and the root handlers."""
    std = logging.getLogger("lambdaserve")
    state = dict(std.__dict__)
    handlers = list(std.handlers)
    root_filters = [(h, list(h.filters)) for h in logging.root.handlers]
    yield
    std.__dict__.clear()
    std.__dict__.update(state)
    std.handlers[:] = handlers
    for handler, filters in root_filters:
        handler.filters[:] = filters


def test_setup_sends_lambdaserve_logs_through_powertools_json(pristine_logging: None) -> None:
    logger = logs.powertools_logger(function="iris")
    stream = io.StringIO()
    handler = logger.registered_handler
    previous = handler.setStream(stream)
    try:
        logging.getLogger("lambdaserve.batch.job").warning("job failed: %s", "bad key")
    finally:
        handler.setStream(previous)
    record = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert record["level"] == "WARNING" and record["message"] == "job failed: bad key"
    assert record["service"] == "lambdaserve" and record["function"] == "iris"
    assert "timestamp" in record and "location" in record


def test_powertools_is_imported_only_when_something_is_logged() -> None:
    script = textwrap.dedent(
        """
        import logging, sys
        from lambdaserve.observability import logs
        logs.setup(function="iris")
        logging.getLogger("lambdaserve.rest.app").debug("not at INFO")
        print("before", "aws_lambda_powertools" in sys.modules, flush=True)
        logging.getLogger("lambdaserve.rest.app").error("request failed: %s", "boom")
        logging.getLogger("lambdaserve.rest.app").info("second")
        print("after", "aws_lambda_powertools" in sys.modules, flush=True)
        """
    )
    env = {**os.environ, "AWS_LAMBDA_LOG_LEVEL": "INFO"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "before False" and lines[-1] == "after True"
    records = [json.loads(line) for line in lines[1:-1]]
    assert [(r["level"], r["message"]) for r in records] == [
        ("ERROR", "request failed: boom"),
        ("INFO", "second"),
    ]
    assert all(r["service"] == "lambdaserve" and r["function"] == "iris" for r in records)
    assert "request failed" not in done.stderr  # not printed twice by a root handler
