"""The local HTTP API over real sockets: routing, events, response mapping, gateway errors."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest
from local_auth import SigV4

from lambdaserve.local import gateway, server
from lambdaserve.local.auth import sigv4
from lambdaserve.local.auth.policy import LocalAuth, Signer
from lambdaserve.local.events import error_response
from lambdaserve.local.routes import RouteTable
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.template.http_auth import IAM, ApiAuth

pytestmark = pytest.mark.slow  # starts function processes


@pytest.fixture
def api(runtime: LocalLambda) -> Iterator[httpx.Client]:
    routes = RouteTable(runtime.template.routes)
    lines: list[str] = []
    http = server.bind(
        "127.0.0.1", 0, gateway.handler_for(runtime, routes, lines.append), "API", "-p"
    )
    server.serve_in_thread(http, "gateway-test")
    with httpx.Client(base_url=server.url(http), timeout=30) as client:
        client.lines = lines  # type: ignore[attr-defined]
        yield client
    server.stop(http)


def echoed(response: httpx.Response) -> dict[str, object]:
    assert response.status_code == 200, response.text
    event = response.json()["event"]
    assert isinstance(event, dict)
    return event


def test_request_becomes_a_payload_2_0_event(api: httpx.Client) -> None:
    response = api.post(
        "/items/a%20b?x=1&x=2",
        json={"k": "v"},
        headers={"X-Dup": "1", "Cookie": "c1=a; c2=b"},
    )
    event = echoed(response)
    assert event["routeKey"] == "ANY /items/{id}"
    assert event["rawPath"] == "/items/a%20b"
    assert event["pathParameters"] == {"id": "a b"}
    assert event["queryStringParameters"] == {"x": "1,2"}
    assert event["cookies"] == ["c1=a", "c2=b"]
    assert json.loads(str(event["body"])) == {"k": "v"}
    assert event["isBase64Encoded"] is False
    headers = event["headers"]
    assert isinstance(headers, dict) and headers["x-dup"] == "1"
    context = event["requestContext"]
    assert isinstance(context, dict)
    assert context["http"]["method"] == "POST"  # type: ignore[index]
    assert response.headers["apigw-requestid"] == context["requestId"]
    assert any("/items/a%20b" in line and "Echo 200" in line for line in api.lines)  # type: ignore[attr-defined]


def test_binary_body_arrives_base64(api: httpx.Client) -> None:
    event = echoed(api.put("/items/1", content=b"\x00\xff", headers={"content-type": "image/png"}))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(str(event["body"])) == b"\x00\xff"


def test_response_mapping(api: httpx.Client) -> None:
    # Echo returns a dict without statusCode: HTTP API sends it as a 200 JSON body.
    response = api.get("/echo")
    assert response.headers["content-type"] == "application/json"
    assert response.json()["function_name"] == "Echo"


def test_unknown_route_is_not_found(api: httpx.Client) -> None:
    response = api.get("/nowhere")
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert api.post("/echo").status_code == 404  # GET only


def test_handler_error_and_timeout_are_502(api: httpx.Client) -> None:
    for path in ("/boom", "/slow"):
        response = api.request("GET", path)
        assert response.status_code == 502
        assert response.json() == {"message": "Internal Server Error"}


def test_results_become_http_responses(api: httpx.Client) -> None:
    wanted = {
        "statusCode": 418,
        "headers": {"x-teapot": "yes", "content-type": "image/png"},
        "cookies": ["a=1", "b=2"],
        "isBase64Encoded": True,
        "body": base64.b64encode(b"\x89PNG").decode(),
    }
    response = api.post("/http/x", json=wanted)
    assert response.status_code == 418
    assert response.headers["x-teapot"] == "yes"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.content == b"\x89PNG"
    plain = api.post("/http/x", json="Hello from Lambda!")
    assert (plain.status_code, plain.text) == (200, "Hello from Lambda!")
    assert api.post("/http/x", json={"statusCode": "teapot"}).status_code == 502
    head = api.head("/http/x")  # no body: the handler returns null -> 200 "null"
    assert head.status_code == 200 and head.content == b""


def test_an_authorizer_refuses_before_any_invocation_or_passes_its_context(
    runtime: LocalLambda,
) -> None:
    seen: list[gateway.GatewayRequest] = []

    def authorize(request: gateway.GatewayRequest) -> gateway.Decision:
        seen.append(request)
        if dict(request.headers).get("Authorization") != "let-me-in":
            return gateway.Decision(refusal=error_response(403, "Forbidden"))
        return gateway.Decision(context={"jwt": {"claims": {"sub": "me"}, "scopes": None}})

    routes = RouteTable(runtime.template.routes)
    http = server.bind("127.0.0.1", 0)
    server.serve_in_thread(
        http, "gateway-auth", gateway.handler_for(runtime, routes, None, authorize)
    )
    try:
        with httpx.Client(base_url=server.url(http), timeout=30) as client:
            refused = client.get("/echo")
            assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
            assert runtime.idle_environments() == []  # nothing was invoked
            allowed = client.get("/echo", headers={"Authorization": "let-me-in"})
            assert allowed.status_code == 200
            context = allowed.json()["event"]["requestContext"]
            assert context["authorizer"] == {"jwt": {"claims": {"sub": "me"}, "scopes": None}}
            assert client.get("/nowhere").status_code == 404  # unrouted: never authorized
    finally:
        server.stop(http)
    assert [r.match.route.key for r in seen] == ["GET /echo", "GET /echo"]


def test_the_templates_iam_authorizer_at_the_gateway(runtime: LocalLambda) -> None:
    """Signed as AWS's SDKs sign (tests/local_auth.py): the function sees the IAM identity."""
    key = sigv4.AccessKey("AKIALOCALGATEWAY0000", "secret")
    api = ApiAuth(IAM)
    auth = LocalAuth(api, runtime.template.routes, "us-east-1", lambda: Signer(key, "env"))
    routes = RouteTable(runtime.template.routes)
    http = server.bind("127.0.0.1", 0)
    server.serve_in_thread(http, "gateway-iam", gateway.handler_for(runtime, routes, None, auth))
    try:
        with httpx.Client(base_url=server.url(http), timeout=30) as client:
            refused = client.post("/items/1", json={"k": 1})
            assert refused.status_code == 403 and refused.json() == {"message": "Forbidden"}
            signed = client.post("/items/a%20b?x=1", json={"k": 1}, auth=SigV4(key))
            context = echoed(signed)["requestContext"]
            assert isinstance(context, dict)
            assert context["authorizer"]["iam"]["accessKey"] == key.access_key
    finally:
        server.stop(http)
