"""The Lambda invocation being served, for records written deep inside a request.

The request record names Lambda's request id (`function_request_id`, as Powertools' Logger
calls it) so a metric spike leads to the invocation's own log lines. Stages never see the
Lambda context, so the function's handler is wrapped once at import, and each invocation
sets the id here (one attribute store: a Lambda container serves one invocation at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Handler = Callable[[Any, Any], Any]


class Invocation:
    __slots__ = ("request_id",)

    def __init__(self) -> None:
        self.request_id: str | None = None


current = Invocation()


def lambda_handler(inner: Handler) -> Handler:
    """`inner` (e.g. a Mangum adapter), recording each invocation's request id first."""

    def handler(event: Any, context: Any) -> Any:
        current.request_id = getattr(context, "aws_request_id", None)
        return inner(event, context)

    handler.__wrapped__ = inner  # type: ignore[attr-defined]
    return handler
