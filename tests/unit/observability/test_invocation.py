from __future__ import annotations

import io
import json
import logging
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
    logger = logs.setup(function="iris")
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
