"""API Gateway HTTP API (payload format 2.0) events, as Lambda hands them to a handler."""

from __future__ import annotations

import base64
from typing import Any

import orjson


def http_event(
    method: str,
    path: str,
    body: Any = None,
    route_key: str | None = None,
    binary: bytes | None = None,
    extra_headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A payload-2.0 event; `binary` bodies arrive base64-encoded, as API Gateway sends them."""
    headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "bench/1.0",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    text = None
    if body is not None:
        text = body if isinstance(body, str) else orjson.dumps(body).decode()
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(text.encode()))
    if binary is not None:
        text = base64.b64encode(binary).decode()
        headers["content-type"] = "application/octet-stream"
        headers["content-length"] = str(len(binary))
    headers.update(extra_headers or {})
    key = route_key or f"{method} {path}"
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "bench/1.0",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": key,
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "isBase64Encoded": binary is not None,
    }
    if text is not None:
        event["body"] = text
    return event
