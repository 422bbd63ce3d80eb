"""The Lambda Invoke API on loopback (`sam local start-lambda`'s equivalent).

`POST /2015-03-31/functions/{name}/invocations`, so boto3 / the AWS CLI with
`--endpoint-url` (or AWS_ENDPOINT_URL_LAMBDA) reach the local functions: the index function
forwards TF Serving colon paths to a model function through it. Handler errors answer 200
with `X-Amz-Function-Error: Unhandled`, as Lambda does; `Event` invocations answer 202 and
run in the background; `DryRun` answers 204. `X-Amz-Client-Context` (base64 JSON) reaches
the function as context.client_context.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from lambdaserve.local.errors import InvokeRejected, LocalError
from lambdaserve.local.routes import RouteTable
from lambdaserve.local.runtime import InvokeOptions, LocalLambda, check_json_payload
from lambdaserve.local.samples import Sample, curl_examples, shown_path
from lambdaserve.local.server import LocalServer, bind, serve_in_thread, stop, url
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.template import Template

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")


def _options(client_context: str | None) -> InvokeOptions:
    """The Invoke API's base64 client context, decoded to the JSON the runtime receives."""
    if not client_context:
        return InvokeOptions()
    try:
        decoded = base64.b64decode(client_context, validate=True).decode()
        json.loads(decoded)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvokeRejected(
            "Client context must be a valid Base64-encoded JSON object.",
            "InvalidRequestContentException",
            400,
        ) from None
    return InvokeOptions(client_context=decoded)


def handler_for(runtime: LocalLambda) -> type[BaseHTTPRequestHandler]:
    class LambdaApiHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "lambdaserve-lambda"

        def log_message(self, format: str, *args: object) -> None:
            pass  # the functions' START/END/REPORT lines already say what happened

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _reject(self, error: InvokeRejected) -> None:
            body = json.dumps({"Type": "User", "message": error.message}).encode()
            headers = {"Content-Type": "application/json", "x-amzn-ErrorType": error.error_type}
            self._send(error.status, body, headers)

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            match = INVOKE_PATH.match(path)
            if not match:
                self._reject(
                    InvokeRejected(
                        f"no such operation: POST {path}", "UnknownOperationException", 404
                    )
                )
                return
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length) if length else b""
            name = unquote(match.group(1))
            logical_id = runtime.resolve_name(name) or name
            kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            try:
                options = _options(self.headers.get("X-Amz-Client-Context"))
                if kind == "DryRun":
                    if runtime.resolve_name(name) is None:
                        raise InvokeRejected(
                            f"Function not found: {runtime.arn(name)}",
                            "ResourceNotFoundException",
                            404,
                        )
                    self._send(204, b"", {})
                    return
                if kind == "Event":
                    self._invoke_async(logical_id, payload, options)
                    self._send(202, b"", {"x-amzn-RequestId": "local"})
                    return
                result = runtime.invoke(logical_id, payload, options=options)
            except InvokeRejected as error:
                self._reject(error)
                return
            except LocalError as error:
                self._reject(InvokeRejected(error.message, "ServiceException", 500))
                return
            headers = {
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "x-amzn-RequestId": result.request_id,
            }
            if not result.ok:
                headers["X-Amz-Function-Error"] = "Unhandled"
            self._send(200, result.payload, headers)

        def _invoke_async(self, logical_id: str, payload: bytes, options: InvokeOptions) -> None:
            if runtime.resolve_name(logical_id) is None:
                raise InvokeRejected(
                    f"Function not found: {runtime.arn(logical_id)}",
                    "ResourceNotFoundException",
                    404,
                )
            check_json_payload(payload)
            thread = threading.Thread(
                target=runtime.invoke,
                args=(logical_id, payload),
                kwargs={"options": options},
                daemon=True,
            )
            thread.start()

    return LambdaApiHandler


class LambdaApiService:
    """The Invoke API on a loopback port (`sam local start-lambda`); functions reach each
    other through it (AWS_ENDPOINT_URL_LAMBDA)."""

    def __init__(self, template: Template, host: str, port: int, flag: str = "--lambda-port"):
        self.template = template
        self.server: LocalServer = bind(host, port, what="Lambda API", flag=flag)
        self.url = url(self.server)

    @property
    def endpoints(self) -> Mapping[str, str]:
        return {"AWS_ENDPOINT_URL_LAMBDA": self.url}

    def describe(self) -> list[str]:
        return [f"  Lambda API  {self.url}   (aws lambda invoke --endpoint-url {self.url} ...)"]

    def examples(self, samples: list[Sample]) -> list[str]:
        """An `aws lambda invoke` of the first HTTP example's sample event."""
        routes = RouteTable(self.template.routes)
        for _, sample in curl_examples(self.url, routes, samples):
            http = sample.event["requestContext"]["http"]
            match = routes.match(http["method"], sample.event["rawPath"])
            if match is None or http["method"] == "GET":
                continue
            payload = shlex.quote(f"file://{shown_path(sample.path)}")
            return [
                f"aws lambda invoke --endpoint-url {self.url} --function-name "
                f"{match.route.function} --cli-binary-format raw-in-base64-out "
                f"--payload {payload} out.json"
            ]
        return []

    def start(self, runtime: LocalLambda, log: Log) -> None:
        serve_in_thread(self.server, "lambda-api", handler_for(runtime))

    def stop(self) -> None:
        stop(self.server)


@service("Lambda")
def open_lambda_api(template: Template, options: ServeOptions) -> LambdaApiService:
    return LambdaApiService(template, options.host, options.lambda_port)
