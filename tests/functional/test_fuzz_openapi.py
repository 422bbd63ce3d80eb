"""schemathesis against every API function's own OpenAPI, through its real Lambda handler.

Each generated case becomes an API Gateway payload 2.0 event handed to the function's
handler (Mangum, as in Lambda). Valid and invalid inputs alike: never a 5xx, every error a
JSON `{"error": ...}`, every success what the schema promises. Example counts stay small
(LAMBDASERVE_FUZZ_EXAMPLES raises them) so CI time stays bounded.
"""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_functions import FunctionSpec, Handler
from schemathesis import GenerationMode
from schemathesis.core.transport import Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

EXAMPLES = int(os.environ.get("LAMBDASERVE_FUZZ_EXAMPLES", "10"))
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def api_event(case: Any) -> dict[str, Any]:
    """The HTTP API (payload 2.0) event API Gateway would send for this request."""
    kwargs = case.as_transport_kwargs(base_url=f"https://{HOST}")
    path = case.formatted_path
    headers = {k.lower(): str(v) for k, v in (kwargs.get("headers") or {}).items()}
    body: bytes | None = None
    if "json" in kwargs:
        body = json.dumps(kwargs["json"]).encode()
        headers.setdefault("content-type", "application/json")
    elif kwargs.get("data") is not None:
        data = kwargs["data"]
        body = data if isinstance(data, bytes) else str(data).encode()
    query = urlencode(kwargs.get("params") or {}, doseq=True)
    headers["host"] = HOST
    if body is not None:
        headers["content-length"] = str(len(body))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": HOST,
            "domainPrefix": "abc123",
            "http": {
                "method": case.method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "schemathesis",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "$default",
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "isBase64Encoded": False,
    }
    if body is not None:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


def as_response(case: Any, event: dict[str, Any], result: dict[str, Any]) -> Response:
    """The handler's result as the HTTP response API Gateway would return."""
    raw = result.get("body") or ""
    content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
    headers = {k.lower(): [v] for k, v in (result.get("headers") or {}).items()}
    url = f"https://{HOST}{event['rawPath']}"
    request = requests.Request(case.method.upper(), url).prepare()
    return Response(result["statusCode"], headers, content, request, elapsed=0.0, verify=True)


def check(case: Any, event: dict[str, Any], result: dict[str, Any]) -> None:
    status = result["statusCode"]
    detail = f"{case.method} {event['rawPath']} body={event.get('body')!r:.300} -> {status}"
    assert status < 500, f"{detail}: {result.get('body')!r:.500}"
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    assert headers.get("content-type", "").startswith("application/json"), detail
    payload = json.loads(result["body"])
    if status >= 400:
        assert set(payload) == {"error"} and isinstance(payload["error"], str), detail
        return
    case.validate_response(
        as_response(case, event, result),
        checks=[response_schema_conformance, content_type_conformance],
    )


def fuzz_function(handler: Handler, schema: dict[str, Any], model: str | None) -> int:
    """Every operation, valid and invalid inputs; returns how many operations were fuzzed."""
    loaded = schemathesis.openapi.from_dict(schema)
    operations = 0
    for result in loaded.get_all_operations():
        operation = result.ok()
        names = {p.name for p in operation.path_parameters}
        # The function serves one model: name it (other names are a plain 404).
        pinned = {"name": model} if model and "name" in names else None
        modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
        strategy = st.one_of(
            [operation.as_strategy(mode, path_parameters=pinned) for mode in modes]
        )

        @FUZZ
        @given(case=strategy)
        def run(case: Any) -> None:
            event = api_event(case)
            check(case, event, handler(event, None))

        run()
        operations += 1
    return operations


@pytest.mark.parametrize(
    "logical_id",
    ["IndexFunction", "IrisFunction", "BreastCancerFunction", "DiabetesFunction", "DigitsFunction"],
)
def test_function_survives_its_own_openapi(
    logical_id: str,
    handlers: dict[str, Handler],
    function_specs: dict[str, FunctionSpec],
    handler_modules: dict[str, Any],
) -> None:
    spec = function_specs[logical_id]
    model = spec.environment.get("MODEL_NAME")
    schema = handler_modules[logical_id].app.openapi()
    assert fuzz_function(handlers[logical_id], schema, model) >= (3 if model is None else 6)
