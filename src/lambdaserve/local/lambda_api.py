"""The Lambda Invoke API on loopback (`sam local start-lambda`'s equivalent).

`POST /2015-03-31/functions/{name}/invocations`, so boto3 / the AWS CLI with
`--endpoint-url` (or AWS_ENDPOINT_URL_LAMBDA) reach the local functions: the index function
forwards TF Serving colon paths to a model function through it. Handler errors answer 200
with `X-Amz-Function-Error: Unhandled`, as Lambda does; `Event` invocations answer 202 and
run in the background; `DryRun` answers 204.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from lambdaserve.local.errors import InvokeRejected, LocalError
from lambdaserve.local.runtime import LocalLambda, check_json_payload

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations/?$")


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
                    self._invoke_async(logical_id, payload)
                    self._send(202, b"", {"x-amzn-RequestId": "local"})
                    return
                result = runtime.invoke(logical_id, payload)
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

        def _invoke_async(self, logical_id: str, payload: bytes) -> None:
            if runtime.resolve_name(logical_id) is None:
                raise InvokeRejected(
                    f"Function not found: {runtime.arn(logical_id)}",
                    "ResourceNotFoundException",
                    404,
                )
            check_json_payload(payload)
            thread = threading.Thread(
                target=runtime.invoke, args=(logical_id, payload), daemon=True
            )
            thread.start()

    return LambdaApiHandler
