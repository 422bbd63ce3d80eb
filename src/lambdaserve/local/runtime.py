"""The local Lambda service: every function of a template, each in its own warm processes.

An environment starts on a function's first invocation (cold start, with Init Duration),
serves one invocation at a time and stays warm; a timed-out or crashed one is discarded
and the next invocation starts a fresh one, as in Lambda. Logs are framed by
START / END / REPORT lines like CloudWatch's.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdaserve.local import interpreter, layout
from lambdaserve.local.errors import InvokeRejected, LocalError
from lambdaserve.local.instance import Exited, InitFailed, Instance, Timeout, worker_command
from lambdaserve.local.template import ACCOUNT_ID, Function, Template

MAX_PAYLOAD = 6 * 1024 * 1024  # synchronous invocation request and response limit
INIT_LIMIT = 10.0  # seconds Lambda gives the init phase before retrying it in the invoke

Console = Callable[[str, str], None]  # (function logical id, line)


@dataclass(frozen=True)
class Invocation:
    function: Function
    request_id: str
    ok: bool
    payload: bytes
    duration_ms: float
    init_ms: float | None = None
    max_memory_mb: int | None = None

    @property
    def error(self) -> dict[str, object] | None:
        if self.ok:
            return None
        data: dict[str, object] = json.loads(self.payload)
        return data

    def report(self) -> str:
        parts = [f"REPORT RequestId: {self.request_id}"]
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        parts.append(f"Duration: {self.duration_ms:.2f} ms")
        parts.append(f"Billed Duration: {max(1, int(self.duration_ms + 0.999))} ms")
        parts.append(f"Memory Size: {self.function.memory} MB")
        if self.max_memory_mb is not None:
            parts.append(f"Max Memory Used: {self.max_memory_mb} MB")
        return "\t".join(parts)


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


def lambda_environment(
    function: Function, mount: layout.Mount, region: str, provided_root: Path
) -> dict[str, str]:
    """The variables Lambda sets for every function, then the template's (with /opt mapped)."""
    stream = time.strftime("%Y/%m/%d") + f"/[$LATEST]{uuid.uuid4().hex}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "LAMBDA_TASK_ROOT": str(mount.task_root),
        "LAMBDA_RUNTIME_DIR": str(provided_root),
        "_HANDLER": function.handler,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{function.runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{function.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_SAM_LOCAL": "true",
        # Local stand-ins only: never the caller's real credentials or profile.
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    if function.log_format:
        env["AWS_LAMBDA_LOG_FORMAT"] = function.log_format
    if function.log_level:
        env["AWS_LAMBDA_LOG_LEVEL"] = function.log_level
    env.update({k: mount.rewrite(v) for k, v in function.environment.items()})
    return env


class _Pool:
    """The warm environments of one function; invocations take an idle one or start one."""

    def __init__(self, start: Callable[[], Instance], limit: int) -> None:
        self._start = start
        self._limit = max(1, limit)
        self._idle: list[Instance] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def acquire(self) -> tuple[Instance, bool]:
        with self._cond:
            while True:
                if self._closed:
                    raise LocalError("the local runtime is shutting down")
                while self._idle:
                    instance = self._idle.pop()
                    if instance.alive:
                        return instance, False
                    self._count -= 1
                if self._count < self._limit:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return self._start(), True
        except BaseException:
            self.discard()
            raise

    def release(self, instance: Instance) -> None:
        with self._cond:
            if self._closed or not instance.alive:
                self._count -= 1
                instance.kill()
            else:
                self._idle.append(instance)
            self._cond.notify()

    def discard(self, instance: Instance | None = None) -> None:
        if instance is not None:
            instance.kill()
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def close(self) -> list[Instance]:
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        return idle


class LocalLambda:
    """Invoke any function of `template` by logical id, as the Lambda service would."""

    def __init__(
        self,
        template: Template,
        built: bool = False,
        extra_env: Mapping[str, str] | None = None,
        env_overrides: Mapping[str, Mapping[str, str]] | None = None,
        console: Console | None = None,
        forward_logs: bool = True,
        max_instances: int = 1,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.template = template
        self.built = built
        self.extra_env = dict(extra_env or {})
        self.env_overrides = env_overrides or {}
        self.console = console
        self.forward_logs = forward_logs
        self.max_instances = max_instances
        self._warn = warn
        self._warned: set[str] = set()
        self._provided = layout.RuntimeProvided()
        self._pools: dict[str, _Pool] = {}
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

    def _prepare(self, function: Function) -> tuple[list[str], dict[str, str], Path]:
        """The command, environment and working directory of the function's environments."""
        python = interpreter.find(function.python_version, own_packages=not self.built)
        if python.warning and python.warning not in self._warned and self._warn:
            self._warned.add(python.warning)
            self._warn(python.warning)
        mount = layout.mount(
            function, self.template.layers, self.built, python.version, self._provided.directory
        )
        env = lambda_environment(function, mount, self.template.region, self._provided.directory)
        env.update(self.extra_env)
        env.update(self.env_overrides.get("Parameters", {}))
        env.update(self.env_overrides.get(function.logical_id, {}))
        config: dict[str, object] = {
            "path": [list(p) for p in mount.path],
            "handler": function.handler,
            "taskRoot": str(mount.task_root),
        }
        return worker_command(python.executable, config), env, mount.task_root

    def environment(self, logical_id: str) -> dict[str, str]:
        """The environment variables `logical_id` runs with (local paths, local endpoints)."""
        return self._prepare(self.template.function(logical_id))[1]

    def _starter(self, function: Function) -> Callable[[], Instance]:
        command, env, cwd = self._prepare(function)

        def log(line: str) -> None:
            self._say(function.logical_id, line)

        sink = log if (self.forward_logs and self.console) else None
        return lambda: Instance(command, env, cwd, sink)

    def _pool(self, function: Function) -> _Pool:
        with self._lock:
            pool = self._pools.get(function.logical_id)
            if pool is None:
                pool = _Pool(self._starter(function), self.max_instances)
                self._pools[function.logical_id] = pool
            return pool

    # -- invocation
    def invoke(self, logical_id: str, payload: bytes, request_id: str | None = None) -> Invocation:
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
        instance, cold = pool.acquire()
        self._say(logical_id, f"START RequestId: {request_id} Version: $LATEST")
        result = self._run(function, pool, instance, cold, payload or b"{}", request_id)
        self._say(logical_id, f"END RequestId: {request_id}")
        self._say(logical_id, result.report())
        return result

    def _run(
        self,
        function: Function,
        pool: _Pool,
        instance: Instance,
        cold: bool,
        payload: bytes,
        request_id: str,
    ) -> Invocation:
        started = time.perf_counter()
        init_ms: float | None = None
        try:
            if cold:
                init_ms = instance.init(INIT_LIMIT + function.timeout)
            deadline_ms = int(time.time() * 1000) + function.timeout * 1000
            header: dict[str, object] = {
                "requestId": request_id,
                "deadlineMs": deadline_ms,
                "arn": self.arn(function.logical_id),
            }
            meta, body = instance.invoke(header, payload, function.timeout)
        except InitFailed as exc:
            pool.discard(instance)
            elapsed = (time.perf_counter() - started) * 1000
            return Invocation(function, request_id, False, exc.payload, elapsed, elapsed)
        except Timeout:
            pool.discard(instance)
            message = f"Task timed out after {function.timeout:.2f} seconds"
            self._say(function.logical_id, f"{request_id} {message}")
            body = _error_payload(request_id, "Sandbox.Timedout", message)
            return Invocation(function, request_id, False, body, function.timeout * 1000.0, init_ms)
        except Exited as exc:
            pool.discard(instance)
            message = f"Runtime exited with error: exit status {exc.returncode}"
            body = _error_payload(request_id, "Runtime.ExitError", message)
            elapsed = (time.perf_counter() - started) * 1000
            return Invocation(function, request_id, False, body, elapsed, init_ms)
        pool.release(instance)
        ok = bool(meta.get("ok"))
        if ok and len(body) > MAX_PAYLOAD:
            ok = False
            body = json.dumps(
                {
                    "errorType": "Function.ResponseSizeTooLarge",
                    "errorMessage": "Response payload size exceeded maximum allowed payload "
                    f"size ({MAX_PAYLOAD} bytes).",
                }
            ).encode()
        memory = meta.get("maxMemoryMB")
        if isinstance(memory, int) and memory > function.memory:
            self._say(
                function.logical_id,
                f"WARNING: used {memory} MB, above MemorySize {function.memory} MB: "
                "Lambda would stop this invocation (Runtime.OutOfMemory)",
            )
        return Invocation(
            function,
            request_id,
            ok,
            body,
            float(meta.get("durationMs", 0.0)),
            init_ms,
            memory if isinstance(memory, int) else None,
        )

    def warm(self, logical_id: str) -> None:
        """Start one environment of a function now (what provisioned concurrency does)."""
        function = self.template.function(logical_id)
        pool = self._pool(function)
        instance, cold = pool.acquire()
        try:
            if cold:
                instance.init(INIT_LIMIT + function.timeout)
        except (InitFailed, Timeout, Exited):
            pool.discard(instance)
            return
        pool.release(instance)

    def close(self) -> None:
        """Stop every environment this runtime started."""
        with self._lock:
            pools = list(self._pools.values())
        for pool in pools:
            for instance in pool.close():
                instance.close()
        self._provided.close()
