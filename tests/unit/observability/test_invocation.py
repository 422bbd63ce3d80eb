from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from types import SimpleNamespace
from typing import Any

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
