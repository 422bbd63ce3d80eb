"""The local Lambda service: every function of a template, each in its own warm environments.

An environment starts on a function's first invocation (cold start, with Init Duration),
serves one invocation at a time and stays warm; a timed-out or crashed one is discarded
and the next invocation starts a fresh one, as in Lambda. Each environment runs AWS's
runtime interface client against its own Runtime API (see environment.py), so the context
object, error JSON and log format are AWS's own. Logs are framed by START / END / REPORT
lines like CloudWatch's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lambdaserve.local import interpreter, layout
from lambdaserve.local.environment import Environment, Exited, InitFailed, Sandbox, Timeout
from lambdaserve.local.errors import InvokeRejected
from lambdaserve.local.pool import Pool
from lambdaserve.local.report import Invocation
from lambdaserve.local.runtime_api import InvokeRequest, new_trace_id
from lambdaserve.local.template import ACCOUNT_ID, Function, Template
from lambdaserve.local.variables import lambda_environment

MAX_PAYLOAD = 6 * 1024 * 1024  # synchronous invocation request and response limit
INIT_LIMIT = 10.0  # seconds Lambda gives the init phase before retrying it in the invoke

Console = Callable[[str, str], None]  # (function logical id, line)

__all__ = ["Invocation", "InvokeOptions", "LocalLambda", "check_json_payload"]


@dataclass(frozen=True)
class InvokeOptions:
    """What an Invoke API caller may add: Lambda passes them to the runtime as headers."""

    client_context: str | None = None  # JSON
    cognito_identity: str | None = None  # JSON
    trace_id: str | None = None


def check_json_payload(payload: bytes) -> None:
    """Lambda refuses a payload that is not JSON before any function runs."""
    try:
        json.loads(payload or b"{}")
    except ValueError as exc:
        raise InvokeRejected(
            f"Could not parse request body into json: {exc}",
            "InvalidRequestContentException",
            400,
        ) from None


def _error_payload(request_id: str, error_type: str, message: str) -> bytes:
    return json.dumps(
        {"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {message}"}
    ).encode()


class LocalLambda:
    """Invoke any function of `template` by logical id, as the Lambda service would.

    endpoints: variables pointing the functions' AWS SDKs at local services
    (AWS_ENDPOINT_URL_LAMBDA, AWS_ENDPOINT_URL_S3 ...); env_overrides: sam's --env-vars;
    console: where the START/END/REPORT lines and the functions' logs go (None: nowhere);
    initialization_type: "snap-start" makes awslambdaric run the snapshot_restore_py hooks
    as Lambda does for a SnapStart version: before-snapshot hooks after init, then
    restore/next, then after-restore hooks, all before the first invocation (every function);
    snapstart: the same for the functions whose template turns SnapStart on (`--snapstart`).
    """

    def __init__(
        self,
        template: Template,
        built: bool = False,
        endpoints: Mapping[str, str] | None = None,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        console: Console | None = None,
        max_instances: int = 1,
        warn: Callable[[str], None] | None = None,
        initialization_type: str = "on-demand",
        snapstart: bool = False,
    ) -> None:
        self.template = template
        self.initialization_type = initialization_type
        self.snapstart = snapstart
        self.built = built
        self.endpoints = dict(endpoints or {})
        self.env_overrides = env_overrides or {}
        self.console = console
        # Also handed every function log line (function, line): e.g. the capture shipper
        # that writes Data Capture records to local S3 as the capture pipeline does in AWS.
        self.log_taps: list[Callable[[str, str], None]] = []
        self.max_instances = max_instances
        self._warn = warn
        self._warned: set[str] = set()
        self._provided = layout.RuntimeProvided()
        self._pools: dict[str, Pool] = {}
        self._lock = threading.Lock()

    # -- names
    def resolve_name(self, name: str) -> str | None:
        """A function name, ARN or partial ARN (with or without qualifier) -> logical id."""
        if ":function:" in name:
            name = name.split(":function:", 1)[1]
        name = name.split(":", 1)[0]
        return name if name in self.template.functions else None

    def arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.template.region}:{ACCOUNT_ID}:function:{logical_id}"

    # -- environments
    def _say(self, function: str, line: str) -> None:
        if self.console:
            self.console(function, line)

    def sandbox(self, logical_id: str) -> Sandbox:
        """How `logical_id`'s environments start: interpreter, import path, variables."""
        function = self.template.function(logical_id)
        python = interpreter.find(function.python_version, own_packages=not self.built)
        if python.warning and python.warning not in self._warned and self._warn:
            self._warned.add(python.warning)
            self._warn(python.warning)
        mount = layout.mount(
            function, self.template.layers, self.built, python.version, self._provided.directory
        )
        snap_start = self.snapstart and function.snap_start
        env = lambda_environment(
            function,
            mount,
            self.template.region,
            self._provided.directory,
            self.endpoints,
            "snap-start" if snap_start else self.initialization_type,
        )
        env.update(self.env_overrides.get("Parameters", {}))
        env.update(self.env_overrides.get(function.logical_id, {}))
        return Sandbox(python.executable, mount.path, function.handler, env, mount.task_root)

    def environment(self, logical_id: str) -> dict[str, str]:
        """The environment variables `logical_id` runs with (local paths, local endpoints)."""
        return dict(self.sandbox(logical_id).env)

    def _pool(self, function: Function) -> Pool:
        with self._lock:
            pool = self._pools.get(function.logical_id)
            if pool is None:
                sandbox = self.sandbox(function.logical_id)
                name = function.logical_id

                def log(line: str) -> None:
                    self._say(name, line)
                    for tap in self.log_taps:
                        tap(name, line)

                sink = log if self.console or self.log_taps else None
                pool = Pool(lambda: Environment(sandbox, sink), self.max_instances)
                self._pools[function.logical_id] = pool
            return pool

    # -- invocation
    def invoke(
        self,
        logical_id: str,
        payload: bytes,
        request_id: str | None = None,
        options: InvokeOptions = InvokeOptions(),
    ) -> Invocation:
        """Run one synchronous invocation; handler errors come back in the Invocation."""
        function = self.template.functions.get(logical_id)
        if function is None:
            raise InvokeRejected(
                f"Function not found: {self.arn(logical_id)}", "ResourceNotFoundException", 404
            )
        if len(payload) > MAX_PAYLOAD:
            raise InvokeRejected(
                f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction "
                "operation",
                "RequestTooLargeException",
                413,
            )
        check_json_payload(payload)
        request_id = request_id or str(uuid.uuid4())
        pool = self._pool(function)
        environment, cold = pool.acquire()
        if cold:
            self._say(logical_id, f"INIT_START Runtime Version: {function.runtime} (local)")
        self._say(logical_id, f"START RequestId: {request_id} Version: $LATEST")
        result = self._run(function, pool, environment, cold, payload or b"{}", request_id, options)
        self._say(logical_id, f"END RequestId: {request_id}")
        self._say(logical_id, result.report())
        return result

    def _run(
        self,
        function: Function,
        pool: Pool,
        environment: Environment,
        cold: bool,
        payload: bytes,
        request_id: str,
        options: InvokeOptions,
    ) -> Invocation:
        init_ms: float | None = None
        try:
            if cold:
                init_ms = environment.init(INIT_LIMIT + function.timeout)
            request = InvokeRequest(
                request_id=request_id,
                payload=payload,
                function_arn=self.arn(function.logical_id),
                deadline_ms=int(time.time() * 1000) + function.timeout * 1000,
                client_context=options.client_context,
                cognito_identity=options.cognito_identity,
                trace_id=options.trace_id or new_trace_id(),
            )
            outcome = environment.invoke(request, function.timeout)
        except InitFailed as exc:
            pool.discard(environment)
            elapsed = (time.monotonic() - environment.started) * 1000
            error_type = _error_type(exc.payload)
            return Invocation(
                function, request_id, False, exc.payload, 0.0, elapsed, None, "error", error_type
            )
        except Timeout:
            pool.discard(environment)
            message = f"Task timed out after {function.timeout:.2f} seconds"
            self._say(function.logical_id, f"{_timestamp()} {request_id} {message}")
            body = _error_payload(request_id, "Sandbox.Timedout", message)
            duration = function.timeout * 1000.0
            return Invocation(function, request_id, False, body, duration, init_ms, None, "timeout")
        except Exited as exc:
            pool.discard(environment)
            message = f"Runtime exited with error: exit status {exc.returncode}"
            body = _error_payload(request_id, "Runtime.ExitError", message)
            self._say(function.logical_id, f"RequestId: {request_id} Error: {message}")
            return Invocation(
                function, request_id, False, body, 0.0, init_ms, None, "error", "Runtime.ExitError"
            )
        memory = environment.max_memory_mb()
        pool.release(environment)
        if memory is not None and memory > function.memory:
            self._say(
                function.logical_id,
                f"WARNING: used {memory} MB, above MemorySize {function.memory} MB: "
                "Lambda would stop this invocation (Runtime.OutOfMemory)",
            )
        return Invocation(
            function, request_id, outcome.ok, outcome.payload, outcome.duration_ms, init_ms, memory
        )

    def warm(self, logical_id: str) -> None:
        """Start one environment of a function now (what provisioned concurrency does)."""
        function = self.template.function(logical_id)
        pool = self._pool(function)
        environment, cold = pool.acquire()
        try:
            if cold:
                environment.init(INIT_LIMIT + function.timeout)
        except (InitFailed, Timeout, Exited):
            pool.discard(environment)
            return
        pool.release(environment)

    def idle_environments(self) -> list[Environment]:
        with self._lock:
            pools = list(self._pools.values())
        return [environment for pool in pools for environment in pool.idle]

    def close(self) -> None:
        """Stop every environment this runtime started."""
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            for environment in pool.close():
                environment.close()
        self._provided.close()


def _error_type(payload: bytes) -> str | None:
    try:
        kind = json.loads(payload).get("errorType")
    except (ValueError, AttributeError):
        return None
    return str(kind) if kind else None


def _timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
