"""Loopback HTTP servers of the local runtime: bind with a clear message, serve in a thread.

Binding and serving are separate steps, so every port is known (and a busy one reported)
before the functions' environment, which names the local endpoints, is built.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lambdaserve.local.errors import LocalError


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    serving = False

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that went away (a killed function process) is not worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _NotServing(BaseHTTPRequestHandler):
    """Placeholder until `serve_in_thread` names the real handler."""


def bind(
    host: str,
    port: int,
    handler: type[BaseHTTPRequestHandler] = _NotServing,
    what: str = "server",
    flag: str = "--port",
) -> LocalServer:
    """Bind now, so a busy port is reported before anything else starts."""
    try:
        return LocalServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise LocalError(
                f"port {port} on {host} is already in use, so the {what} cannot start "
                f"(another `lambdaserve serve` or `sam local`?); pick another with {flag} PORT"
            ) from None
        raise LocalError(f"cannot listen on {host}:{port} for the {what}: {exc.strerror}") from None


def check_port(host: str, port: int, what: str, flag: str) -> None:
    """For servers that bind themselves (moto's ThreadedMotoServer would wait forever on a
    busy port): find out first, with the same message as `bind`."""
    if port != 0:
        bind(host, port, what=what, flag=flag).server_close()


def start_moto(host: str, port: int, what: str, flag: str) -> tuple[Any, str]:
    """moto's HTTP server on loopback, started (a busy port said first): (server, endpoint)."""
    from moto.server import ThreadedMotoServer  # dev-only, heavy: imported on use

    check_port(host, port, what, flag)
    # werkzeug logs every request; the local pollers call several times a second.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    return server, f"http://{bound_host}:{bound_port}"


def url(server: LocalServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def serve_in_thread(
    server: LocalServer, name: str, handler: type[BaseHTTPRequestHandler] | None = None
) -> threading.Thread:
    """Start answering (with `handler`, if the server was bound without its handler)."""
    if handler is not None:
        server.RequestHandlerClass = handler
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    server.serving = True
    thread.start()
    return thread


def stop(server: LocalServer) -> None:
    """Stop answering and release the port (a bound server that never served just closes)."""
    if server.serving:
        server.shutdown()
    server.server_close()


def moto_client(service: str, endpoint: str, region: str) -> Any:
    """A boto3 client of `service` on a local moto server (dummy credentials: moto takes any)."""
    import boto3

    make: Any = boto3.client  # typed per service name; any of ours will do
    return make(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
