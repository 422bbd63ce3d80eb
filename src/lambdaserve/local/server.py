"""Loopback HTTP servers of the local runtime: bind with a clear message, serve in a thread."""

from __future__ import annotations

import errno
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from lambdaserve.local.errors import LocalError


class LocalServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def bind(
    host: str, port: int, handler: type[BaseHTTPRequestHandler], what: str, flag: str
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


def url(server: LocalServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"


def serve_in_thread(server: LocalServer, name: str) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    return thread


def stop(server: LocalServer) -> None:
    server.shutdown()
    server.server_close()
