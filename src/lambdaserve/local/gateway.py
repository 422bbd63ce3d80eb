"""The local HTTP API: routes each request as API Gateway would and answers with its result.

No route: 404 `{"message":"Not Found"}`. A handler error, timeout or malformed result:
502 `{"message":"Internal Server Error"}`. Bodies over HTTP API's 10 MB, or events over
Lambda's 6 MB: 413. Every answer carries an `apigw-requestid` header, as in AWS.

Authorization happens where API Gateway does it: after routing, before the function is
invoked. An `Authorizer` sees the matched request and either refuses it (API Gateway's
403 `{"message":"Forbidden"}` or 401) or returns the context the function receives as
requestContext.authorizer; without one every route is open (AuthorizationType NONE).
`serve` installs the template's own (auth/policy.py) unless told `--auth none`.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler

from lambdaserve.local.auth.contract import Authorizer, Decision, GatewayRequest
from lambdaserve.local.auth.policy import LocalAuth
from lambdaserve.local.errors import InvokeRejected, LocalError
from lambdaserve.local.events import (
    HttpResponse,
    MalformedResponse,
    error_response,
    http_event,
    http_response,
)
from lambdaserve.local.routes import RouteMatch, RouteTable
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample, curl_examples
from lambdaserve.local.server import LocalServer, bind, serve_in_thread, stop, url
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.template import Template
from lambdaserve.local.template.http_auth import NONE

MAX_BODY = 10 * 1024 * 1024  # HTTP API's request size limit

AccessLog = Callable[[str], None]


def _read_chunked(handler: BaseHTTPRequestHandler) -> bytes:
    body = bytearray()
    while True:
        size = int(handler.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return bytes(body)
        body.extend(handler.rfile.read(size))
        handler.rfile.readline()
        if len(body) > MAX_BODY:
            raise ValueError("body too large")


def handler_for(
    runtime: LocalLambda,
    routes: RouteTable,
    access_log: AccessLog | None = None,
    authorizer: Authorizer | None = None,
) -> type[BaseHTTPRequestHandler]:
    class GatewayHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lambdaserve"
        sys_version = ""

        def log_message(self, format: str, *args: object) -> None:
            pass  # one access-log line per request is written by _handle

        def _body(self) -> bytes | None:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                try:
                    return _read_chunked(self)
                except ValueError:
                    return None
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                return None
            return self.rfile.read(length) if length else b""

        def _answer(self, response: HttpResponse, request_id: str, head: bool) -> None:
            self.send_response(response.status)
            for name, value in response.headers:
                if name.lower() not in (
                    "content-length",
                    "transfer-encoding",
                    "connection",
                    "date",
                ):
                    self.send_header(name, value)
            self.send_header("apigw-requestid", request_id)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            if not head:
                self.wfile.write(response.body)

        def _handle(self) -> None:
            started = time.perf_counter()
            request_id = uuid.uuid4().hex[:16]
            raw_path, _, raw_query = self.path.partition("?")
            match = routes.match(self.command, raw_path)
            body = self._body()
            target = match.route.function if match else "-"
            if body is None:
                response = error_response(413, "Request Entity Too Large")
                self.close_connection = True
            elif match is None:
                response = error_response(404, "Not Found")
            else:
                response = self._route(match, raw_path, raw_query, body, request_id)
            if access_log:  # before answering, so the line exists once the client has it
                ms = (time.perf_counter() - started) * 1000
                access_log(
                    f"{self.command} {self.path} -> {target} {response.status} ({ms:.0f} ms)"
                )
            self._answer(response, request_id, self.command == "HEAD")

        def _route(
            self, match: RouteMatch, raw_path: str, raw_query: str, body: bytes, request_id: str
        ) -> HttpResponse:
            decision = Decision()
            if authorizer is not None:
                request = GatewayRequest(
                    self.command, raw_path, raw_query, list(self.headers.items()), body, match
                )
                decision = authorizer(request)
                if decision.refusal is not None:
                    return decision.refusal
            event = http_event(
                self.command,
                raw_path,
                raw_query,
                self.headers.items(),
                body,
                match,
                source_ip=self.client_address[0],
                host=self.headers.get("Host", "127.0.0.1").split(":")[0],
                request_id=request_id,
                authorizer=decision.context,
            )
            return self._call(match.route.function, event)

        def _call(self, function: str, event: dict[str, object]) -> HttpResponse:
            try:
                result = runtime.invoke(function, json.dumps(event).encode())
            except InvokeRejected as error:
                if error.status == 413:
                    return error_response(413, "Request Entity Too Large")
                return error_response(500, "Internal Server Error")
            except LocalError:
                return error_response(503, "Service Unavailable")
            if not result.ok:
                return error_response(502, "Internal Server Error")
            try:
                return http_response(result.payload)
            except MalformedResponse as exc:
                if access_log:
                    access_log(f"{function} returned a malformed response ({exc}): 502")
                return error_response(502, "Internal Server Error")

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    return GatewayHandler


class HttpApiService:
    """The template's HttpApi routes on a loopback port (`sam local start-api`), authorized
    as the template's HttpApi Auth says (`ServeOptions.auth` False: every route open)."""

    def __init__(self, template: Template, options: ServeOptions) -> None:
        self.routes = RouteTable(template.routes)
        self.auth: LocalAuth | None = None
        if options.auth:
            self.auth = LocalAuth(template.http_auth, template.routes, template.region)
        self.deployed_auth = template.http_auth.default
        self.server: LocalServer = bind(options.host, options.port, what="HTTP API")
        self.url = url(self.server)
        self.authorizer: Authorizer | None = self.auth

    @property
    def endpoints(self) -> Mapping[str, str]:
        return {}

    def describe(self) -> list[str]:
        lines = [f"  HTTP API    {self.url}   ({len(self.routes)} routes)"]
        if self.auth is not None:
            return lines + self.auth.describe()
        warning = (
            f"  Auth        OFF (--auth none): ANY CALLER on {self.url} reaches every route; "
            f"the deployed API's default authorizer is {self.deployed_auth}"
        )
        return [*lines, warning]

    def examples(self, samples: list[Sample]) -> list[str]:
        options = self.auth.curl_options if self.auth is not None else None
        return [command for command, _ in curl_examples(self.url, self.routes, samples, options)]

    def start(self, runtime: LocalLambda, log: Log) -> None:
        def access(line: str) -> None:
            log("http", line)

        if self.auth is not None:
            self.auth.log = access
        elif self.deployed_auth != NONE:
            log("http", "WARNING: authorization is OFF (--auth none): every route is open")
        handler = handler_for(runtime, self.routes, access, self.authorizer)
        serve_in_thread(self.server, "http-api", handler)

    def stop(self) -> None:
        stop(self.server)


@service("HttpApi")
def open_http_api(template: Template, options: ServeOptions) -> HttpApiService | None:
    return HttpApiService(template, options) if template.routes else None


__all__ = ["Authorizer", "Decision", "GatewayRequest", "HttpApiService", "handler_for"]
