"""Forward TF Serving colon paths from the index function to the owning model function.

API Gateway route keys cannot split `iris:predict` inside one path segment, so
`POST /v1/models/iris:predict` reaches the catch-all (index) route. The index function
re-invokes the model function with the untouched event; the model app routes it natively.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

import orjson

logger = logging.getLogger("lambdaserve.forward")

COLON_PATH = re.compile(r"^/v1/models/([^/:]+):[A-Za-z]+$")

Invoker = Callable[[str, bytes], tuple[bytes, str | None]]


def _error(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": orjson.dumps({"error": message}).decode(),
        "isBase64Encoded": False,
    }


def lambda_invoker(alias: str = "") -> Invoker:
    """Synchronous Lambda Invoke via boto3 (imported on first use: cold starts stay small).

    With an alias, the published version behind it answers (SnapStart, provisioned
    concurrency and canary weights apply to the alias, never to the unqualified function).
    """
    import boto3  # provided by the Lambda python runtime

    client = boto3.client("lambda")

    def invoke(function: str, payload: bytes) -> tuple[bytes, str | None]:
        if alias:
            result = client.invoke(FunctionName=function, Payload=payload, Qualifier=alias)
        else:
            result = client.invoke(FunctionName=function, Payload=payload)
        return result["Payload"].read(), result.get("FunctionError")

    return invoke


class Forwarder:
    def __init__(
        self, functions: dict[str, str], invoker: Invoker | None = None, alias: str = ""
    ) -> None:
        self.functions = functions
        self.alias = alias
        self._invoker = invoker

    @classmethod
    def from_json(cls, raw: str, alias: str = "") -> Forwarder:
        try:
            functions = orjson.loads(raw or "{}")
        except orjson.JSONDecodeError as exc:
            raise ValueError("LAMBDASERVE_MODEL_FUNCTIONS must be a JSON object") from exc
        if not isinstance(functions, dict):
            raise ValueError("LAMBDASERVE_MODEL_FUNCTIONS must be a JSON object")
        return cls({str(k): str(v) for k, v in functions.items()}, alias=alias)

    def target(self, event: dict[str, Any]) -> str | None:
        """The function owning this event's colon path, if it is one."""
        match = COLON_PATH.match(str(event.get("rawPath", "")))
        return self.functions.get(match.group(1)) if match else None

    def __call__(self, function: str, event: dict[str, Any]) -> dict[str, Any]:
        if self._invoker is None:
            self._invoker = lambda_invoker(self.alias)
        try:
            payload, function_error = self._invoker(function, orjson.dumps(event))
        except Exception:
            logger.exception("forwarding to %s failed", function)
            return _error(502, "model function unavailable")
        if function_error:
            logger.error("model function %s failed: %s", function, payload[:2000])
            return _error(502, "model function failed")
        try:
            result: dict[str, Any] = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return _error(502, "model function returned an invalid response")
        return result
