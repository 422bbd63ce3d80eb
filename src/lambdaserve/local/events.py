"""HTTP request -> API Gateway payload 2.0 event, and the function's result -> HTTP response.

Follows the HTTP API Lambda proxy integration (payload format 2.0): lower-case headers with
duplicates comma-joined, cookies in their own field, binary bodies base64-encoded; a result
without `statusCode` is a 200 JSON body; cookies come back as one set-cookie header each.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from lambdaserve.local.routes import RouteMatch

API_ID = "local"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
TEXT_SUFFIXES = ("+json", "+xml")


class MalformedResponse(Exception):
    """The function answered something API Gateway cannot turn into HTTP (it answers 502)."""


def is_text(content_type: str | None) -> bool:
    """Bodies of these types travel as text; anything else is base64-encoded, as in AWS."""
    if not content_type:
        return False
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(TEXT_TYPES) or kind.endswith(TEXT_SUFFIXES)


def _clf_time(epoch: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def http_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    match: RouteMatch,
    source_ip: str = "127.0.0.1",
    host: str = "127.0.0.1",
    request_id: str | None = None,
    now: float | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event API Gateway sends the route's function for this request.

    authorizer: what the route's authorizer established (`{"iam": {...}}` or
    `{"jwt": {"claims": ...}}`), passed on as requestContext.authorizer.
    """
    now = time.time() if now is None else now
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-proto", "http")
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    request_id = request_id or str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = joined
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": "123456789012",
        "apiId": API_ID,
        **({"authorizer": dict(authorizer)} if authorizer else {}),
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": method.upper(),
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": joined.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.key,
        "stage": "$default",
        "time": _clf_time(now),
        "timeEpoch": int(now * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    binary = bool(body) and not is_text(joined.get("content-type"))
    if body and not binary:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:  # a "text" body that is not UTF-8: pass it on as bytes
            binary = True
    if binary:
        event["body"] = base64.b64encode(body).decode()
    event["isBase64Encoded"] = binary
    return event


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def error_response(status: int, message: str) -> HttpResponse:
    """API Gateway's own error shape (`{"message": ...}`), e.g. 404 Not Found, 502."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, [("content-type", "application/json")], body)


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_header_value(v) for v in value)
    return str(value)


def http_response(payload: bytes) -> HttpResponse:
    """Turn the function's result (its JSON payload) into the HTTP response AWS would send."""
    try:
        result = json.loads(payload)
    except ValueError as exc:
        raise MalformedResponse(f"function returned invalid JSON: {exc}") from None
    if not isinstance(result, dict) or "statusCode" not in result:
        text = result if isinstance(result, str) else payload.decode()
        return HttpResponse(200, [("content-type", "application/json")], text.encode())
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        raise MalformedResponse(f"statusCode {result['statusCode']!r} is not a number") from None
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), _header_value(v)) for v in values)
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        data = b""
    elif result.get("isBase64Encoded"):
        try:
            data = base64.b64decode(str(body), validate=True)
        except ValueError:
            raise MalformedResponse("isBase64Encoded is true but body is not base64") from None
    else:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    return HttpResponse(status, headers, data)
