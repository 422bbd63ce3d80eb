"""One local Lambda execution environment: the child process that imports and calls a handler.

Run as a script (`python -I -S -u worker.py CONFIG_JSON`), never imported by the function:
it uses the standard library only, so in `--built` mode the function sees nothing but its
code, its layers and the runtime-provided boto3, as in Lambda.

Protocol with the parent: frames of one JSON header line followed by `size` raw bytes, on
stdin (invocations) and on the original stdout (init status, results). The handler's own
stdout is redirected to stderr, which carries the logs, as in Lambda.
"""

from __future__ import annotations

import decimal
import json
import logging
import os
import resource
import signal
import site
import sys
import time
import traceback
from typing import IO, Any

_request_id = ""


class LambdaContext:
    """The context object of Lambda's python runtime (same attribute names)."""

    def __init__(self, request_id: str, deadline_ms: int, arn: str) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


class _TextFormatter(logging.Formatter):
    """Lambda's text log line: `[LEVEL]\\ttimestamp\\trequest id\\tmessage`."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        line = (
            f"[{record.levelname}]\t{stamp}.{int(record.msecs):03d}Z\t{_request_id}\t"
            f"{record.getMessage()}"
        )
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.replace("\n", "\r")


class _JsonFormatter(logging.Formatter):
    """Lambda's JSON log record (LoggingConfig LogFormat: JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        data: dict[str, Any] = {
            "timestamp": f"{stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname,
            "message": record.getMessage(),
            "logger": record.name,
        }
        if _request_id:
            data["requestId"] = _request_id
        if record.exc_info and record.exc_info[0] is not None:
            data["errorType"] = record.exc_info[0].__name__
            data["errorMessage"] = str(record.exc_info[1])
            data["stackTrace"] = traceback.format_tb(record.exc_info[2])
        return json.dumps(data, default=str)


def _setup_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    json_format = os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"
    handler.setFormatter(_JsonFormatter() if json_format else _TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
    if level in ("TRACE", "DEBUG", "INFO", "WARN", "WARNING", "ERROR", "FATAL", "CRITICAL"):
        root.setLevel({"TRACE": "DEBUG", "WARN": "WARNING", "FATAL": "CRITICAL"}.get(level, level))


def _setup_path(entries: list[list[Any]]) -> None:
    """Put the function code and layers first, as /var/task and /opt/python are in Lambda."""
    stdlib = list(sys.path)
    for directory, is_site_dir in entries:
        if is_site_dir:
            site.addsitedir(directory)  # honours .pth files (editable installs)
        elif directory not in sys.path:
            sys.path.append(directory)
    added = [p for p in sys.path if p not in stdlib]
    sys.path[:] = added + stdlib


def _error(exc: BaseException) -> dict[str, Any]:
    """Lambda's error payload; the runtime's own frames are left out of the stack trace."""
    frames = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename != __file__ and not frame.filename.startswith("<frozen importlib")
    ]
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": _request_id,
        "stackTrace": traceback.format_list(frames),
    }


def _fault(kind: str, message: str, trace: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": kind, "requestId": "", "stackTrace": trace or []}


def _log_error(error: dict[str, Any]) -> None:
    """Lambda logs every unhandled error before returning it."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        record = {"timestamp": stamp, "level": "ERROR", **error}
        print(json.dumps(record), file=sys.stderr, flush=True)
    else:
        trace = "".join(error["stackTrace"])
        text = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
        if trace:
            text += "\nTraceback (most recent call last):\n" + trace
        print(text.rstrip().replace("\n", "\r"), file=sys.stderr, flush=True)


def _load_handler(spec: str) -> Any:
    """Import `module.function` the way Lambda's runtime does, with its error types."""
    import importlib

    module_name, _, function_name = spec.rpartition(".")
    if not module_name:
        raise _Fault(_fault("Runtime.MalformedHandlerName", f"Bad handler '{spec}'"))
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        raise _Fault(_fault("Runtime.ImportModuleError", message)) from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        message = f"Syntax error in module '{module_name}': {exc}"
        raise _Fault(_fault("Runtime.UserCodeSyntaxError", message, trace)) from exc
    except Exception as exc:
        raise _Fault(_error(exc)) from exc
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        raise _Fault(_fault("Runtime.HandlerNotFound", message))
    return handler


class _Fault(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__(payload["errorMessage"])
        self.payload = payload


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value) if value % 1 else int(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _send(out: IO[bytes], header: dict[str, Any], body: bytes = b"") -> None:
    header["size"] = len(body)
    out.write(json.dumps(header).encode() + b"\n" + body)
    out.flush()


def _max_memory_mb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def _invoke(handler: Any, header: dict[str, Any], payload: bytes) -> tuple[bool, bytes]:
    global _request_id
    _request_id = str(header["requestId"])
    os.environ["_X_AMZN_TRACE_ID"] = str(header.get("traceId", ""))
    context = LambdaContext(_request_id, int(header["deadlineMs"]), str(header["arn"]))
    try:
        event = json.loads(payload)
        result = handler(event, context)
    except Exception as exc:
        error = _error(exc)
        _log_error(error)
        return False, json.dumps(error).encode()
    try:
        return True, json.dumps(result, default=_default).encode()
    except (TypeError, ValueError) as exc:
        error = _fault("Runtime.MarshalError", f"Unable to marshal response: {exc}")
        error["requestId"] = _request_id
        _log_error(error)
        return False, json.dumps(error).encode()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the parent
    config = json.loads(sys.argv[1])
    inbox = sys.stdin.buffer
    outbox = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # print() in handlers goes to the logs, not into the protocol
    _setup_path(config["path"])
    _setup_logging()
    os.chdir(config["taskRoot"])
    started = time.perf_counter()
    try:
        handler = _load_handler(config["handler"])
    except _Fault as fault:
        _log_error(fault.payload)
        _send(outbox, {"type": "init", "ok": False}, json.dumps(fault.payload).encode())
        return
    init_ms = (time.perf_counter() - started) * 1000
    _send(outbox, {"type": "init", "ok": True, "initMs": init_ms})
    while True:
        line = inbox.readline()
        if not line:
            return  # the parent went away: so do we
        header = json.loads(line)
        payload = inbox.read(int(header["size"]))
        started = time.perf_counter()
        ok, body = _invoke(handler, header, payload)
        duration_ms = (time.perf_counter() - started) * 1000
        result = {"type": "result", "ok": ok, "durationMs": duration_ms}
        result["maxMemoryMB"] = _max_memory_mb()
        _send(outbox, result, body)


if __name__ == "__main__":
    main()
