from __future__ import annotations

import base64
import json

import pytest

from lambdaserve.local.events import (
    MalformedResponse,
    error_response,
    http_event,
    http_response,
    is_text,
)
from lambdaserve.local.routes import RouteMatch
from lambdaserve.local.template import HttpRoute

MATCH = RouteMatch(HttpRoute("ANY", "/items/{id}", "Fn"), {"id": "a b"})


def event(**kwargs: object) -> dict[str, object]:
    args: dict[str, object] = {
        "method": "post",
        "raw_path": "/items/a%20b",
        "raw_query": "",
        "headers": [("Content-Type", "application/json"), ("User-Agent", "test/1")],
        "body": b'{"x": 1}',
        "match": MATCH,
        "request_id": "req-1",
        "now": 1_700_000_000.25,
    }
    args.update(kwargs)
    return http_event(**args)  # type: ignore[arg-type]


def test_payload_2_0_fields() -> None:
    e = event()
    assert e["version"] == "2.0"
    assert e["routeKey"] == "ANY /items/{id}"
    assert e["rawPath"] == "/items/a%20b"
    assert e["pathParameters"] == {"id": "a b"}
    assert e["body"] == '{"x": 1}' and e["isBase64Encoded"] is False
    assert "cookies" not in e and "queryStringParameters" not in e
    context = e["requestContext"]
    assert isinstance(context, dict)
    assert context["http"] == {
        "method": "POST",
        "path": "/items/a%20b",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "test/1",
    }
    assert context["requestId"] == "req-1"
    assert context["routeKey"] == "ANY /items/{id}"
    assert context["stage"] == "$default"
    assert context["timeEpoch"] == 1_700_000_000_250
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"


def test_headers_lowercased_duplicates_joined_cookies_split() -> None:
    e = event(
        headers=[
            ("X-Thing", "a"),
            ("x-thing", "b"),
            ("Cookie", "session=1; theme=dark"),
            ("Cookie", "lang=en"),
        ],
        body=b"",
    )
    headers = e["headers"]
    assert isinstance(headers, dict)
    assert headers["x-thing"] == "a,b"
    assert "cookie" not in headers
    assert e["cookies"] == ["session=1", "theme=dark", "lang=en"]
    assert "body" not in e and e["isBase64Encoded"] is False


def test_query_string_duplicates_joined() -> None:
    e = event(raw_query="a=1&a=2&b=&c=x%20y")
    assert e["rawQueryString"] == "a=1&a=2&b=&c=x%20y"
    assert e["queryStringParameters"] == {"a": "1,2", "b": "", "c": "x y"}


@pytest.mark.parametrize(
    ("content_type", "text"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("text/csv", True),
        ("application/problem+json", True),
        ("application/octet-stream", False),
        ("application/x-www-form-urlencoded", False),
        (None, False),
    ],
)
def test_binary_bodies_are_base64(content_type: str | None, text: bool) -> None:
    assert is_text(content_type) is text
    headers = [("content-type", content_type)] if content_type else []
    e = event(headers=headers, body=b"\x00\x01hi")
    assert e["isBase64Encoded"] is not text
    if not text:
        assert base64.b64decode(str(e["body"])) == b"\x00\x01hi"


def test_a_text_body_that_is_not_utf8_is_passed_on_as_base64() -> None:
    e = event(headers=[("content-type", "application/json")], body=b'{"a": "\xff"}')
    assert e["isBase64Encoded"] is True
    assert base64.b64decode(str(e["body"])) == b'{"a": "\xff"}'


def test_full_response_with_cookies_and_multi_value_headers() -> None:
    response = http_response(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"content-type": "text/plain", "x-n": 3},
                "multiValueHeaders": {"x-multi": ["a", "b"]},
                "cookies": ["a=1; Path=/", "b=2"],
                "body": "created",
            }
        ).encode()
    )
    assert response.status == 201
    assert response.body == b"created"
    assert ("x-n", "3") in response.headers
    assert ("x-multi", "a") in response.headers and ("x-multi", "b") in response.headers
    cookies = [v for k, v in response.headers if k == "set-cookie"]
    assert cookies == ["a=1; Path=/", "b=2"]


def test_base64_response_body_is_decoded() -> None:
    payload = {
        "statusCode": 200,
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\xff").decode(),
    }
    assert http_response(json.dumps(payload).encode()).body == b"\xff"


def test_result_without_status_code_is_a_200_json_body() -> None:
    response = http_response(b'{"message": "hi"}')
    assert (response.status, response.body) == (200, b'{"message": "hi"}')
    assert ("content-type", "application/json") in response.headers
    assert http_response(b'"Hello from Lambda!"').body == b"Hello from Lambda!"
    assert http_response(b"[1, 2]").body == b"[1, 2]"


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"statusCode": "abc"}',
        b'{"statusCode": 99}',
        b'{"statusCode": 200, "isBase64Encoded": true, "body": "***"}',
    ],
)
def test_malformed_results(payload: bytes) -> None:
    with pytest.raises(MalformedResponse):
        http_response(payload)


def test_gateway_error_shape() -> None:
    response = error_response(502, "Internal Server Error")
    assert response.status == 502
    assert json.loads(response.body) == {"message": "Internal Server Error"}
