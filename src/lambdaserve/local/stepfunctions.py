"""Local Step Functions: the template's state machines, run by `states.Executor`.

The functions reach it as they reach AWS (AWS_ENDPOINT_URL_SFN, the SDK's JSON protocol):
`StartExecution` (idempotent as the service: the same name and input answer the same
execution; another input, or a closed execution of that name, is ExecutionAlreadyExists),
`DescribeExecution` and `ListExecutions`. Each execution runs in a thread; its Lambda
tasks go through the local runtime, whose warm pools give the Map several concurrent
function instances (`lambdaserve serve --instances N`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

import boto3

from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample
from lambdaserve.local.server import LocalServer, bind, serve_in_thread, stop, url
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.states import Executor, StatesError, check
from lambdaserve.local.template import Template
from lambdaserve.local.template.state_machines import StateMachine

RUNNING, SUCCEEDED, FAILED = "RUNNING", "SUCCEEDED", "FAILED"
Say = Callable[[str], None]


class ApiError(Exception):
    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind, self.message = kind, message


@dataclass
class Execution:
    arn: str
    name: str
    machine: StateMachine
    input: str
    started: float = field(default_factory=time.time)
    status: str = RUNNING
    stopped: float | None = None
    output: str | None = None
    error: str | None = None
    cause: str | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def describe(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "executionArn": self.arn,
            "stateMachineArn": self.machine.arn,
            "name": self.name,
            "status": self.status,
            "startDate": self.started,
            "input": self.input,
        }
        optional = {"stopDate": self.stopped, "output": self.output}
        optional |= {"error": self.error, "cause": self.cause}
        found.update({k: v for k, v in optional.items() if v is not None})
        return found


class LocalStateMachines:
    """Executions of the template's state machines, by ARN."""

    def __init__(self, template: Template, executor: Executor, log: Say) -> None:
        for machine in template.state_machines.values():
            check(machine.definition, machine.logical_id)
        self.machines = {m.arn: m for m in template.state_machines.values()}
        self.executor, self.log = executor, log
        self.executions: dict[str, Execution] = {}
        self._lock = threading.Lock()

    def start(self, machine_arn: str, name: str, data: str) -> Execution:
        machine = self.machines.get(machine_arn)
        if machine is None:
            raise ApiError(
                "StateMachineDoesNotExist", f"State Machine Does Not Exist: '{machine_arn}'"
            )
        try:
            parsed = json.loads(data or "{}")
        except ValueError:
            raise ApiError(
                "InvalidExecutionInput", "Invalid State Machine Execution Input"
            ) from None
        arn = machine.arn.replace(":stateMachine:", ":execution:", 1) + ":" + name
        with self._lock:
            existing = self.executions.get(arn)
            if existing is not None:
                if existing.status == RUNNING and existing.input == data:
                    return existing
                raise ApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
            execution = Execution(arn, name, machine, data)
            self.executions[arn] = execution
        threading.Thread(
            target=self._run, args=(execution, parsed), name=f"sfn-{name[:20]}", daemon=True
        ).start()
        return execution

    def _run(self, execution: Execution, data: Any) -> None:
        self.log(f"execution {execution.name} started")
        context = {"Execution": {"Id": execution.arn, "Name": execution.name, "Input": data}}
        try:
            output = self.executor.run(execution.machine.definition, data, context)
            execution.output, execution.status = json.dumps(output), SUCCEEDED
        except StatesError as exc:
            execution.error, execution.cause, execution.status = exc.error, exc.cause, FAILED
        except Exception as exc:  # a bug or a local service failure: the execution fails
            execution.error, execution.cause = "States.Runtime", f"{type(exc).__name__}: {exc}"
            execution.status = FAILED
        execution.stopped = time.time()
        seconds = execution.stopped - execution.started
        detail = f" ({execution.error}: {execution.cause})" if execution.error else ""
        self.log(f"execution {execution.name} {execution.status} in {seconds:.2f}s{detail}")
        execution.done.set()

    def describe(self, arn: str) -> Execution:
        execution = self.executions.get(arn)
        if execution is None:
            raise ApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return execution

    def wait(self, arn: str, timeout: float | None = None) -> Execution:
        execution = self.describe(arn)
        execution.done.wait(timeout)
        return execution


def handler_for(machines: LocalStateMachines) -> type[BaseHTTPRequestHandler]:
    class StepFunctionsHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.0")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            target = self.headers.get("X-Amz-Target", "")
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                self._send(200, _operation(machines, target.rpartition(".")[2], request))
            except ApiError as exc:
                self._send(400, {"__type": exc.kind, "message": exc.message})
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, {"__type": "ValidationException", "message": str(exc)})

    return StepFunctionsHandler


def _operation(machines: LocalStateMachines, name: str, request: dict[str, Any]) -> dict[str, Any]:
    if name == "StartExecution":
        execution = machines.start(
            request["stateMachineArn"],
            request.get("name") or f"local-{time.time_ns()}",
            request.get("input", "{}"),
        )
        return {"executionArn": execution.arn, "startDate": execution.started}
    if name == "DescribeExecution":
        return machines.describe(request["executionArn"]).describe()
    if name == "ListExecutions":
        wanted = request.get("stateMachineArn")
        listed = [
            {
                k: v
                for k, v in e.describe().items()
                if k not in {"input", "output", "error", "cause"}
            }
            for e in list(machines.executions.values())
            if e.machine.arn == wanted
        ]
        return {"executions": listed}
    raise ApiError("UnknownOperationException", f"{name} is not emulated locally")


class StepFunctionsService:
    """The template's state machines on a loopback port (AWS_ENDPOINT_URL_SFN)."""

    def __init__(self, template: Template, options: ServeOptions) -> None:
        self.template = template
        self.server: LocalServer = bind(
            options.host, options.sfn_port, what="Step Functions", flag="--sfn-port"
        )
        self.url = url(self.server)
        self.machines: LocalStateMachines | None = None

    @property
    def endpoints(self) -> Mapping[str, str]:
        return {"AWS_ENDPOINT_URL_SFN": self.url}

    def describe(self) -> list[str]:
        lines = [f"  Step Functions {self.url}"]
        lines += [
            f"              {m.name} (runs locally)" for m in self.template.state_machines.values()
        ]
        return lines

    def examples(self, samples: list[Sample]) -> list[str]:
        return [
            f"aws stepfunctions list-executions --endpoint-url {self.url} "
            f"--state-machine-arn {m.arn}"
            for m in self.template.state_machines.values()
        ]

    def start(self, runtime: LocalLambda, log: Log) -> None:
        s3_endpoint = runtime.endpoints.get("AWS_ENDPOINT_URL_S3")
        s3 = boto3.client(
            "s3",
            endpoint_url=s3_endpoint,
            region_name=self.template.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

        def invoke(function: str, payload: bytes) -> tuple[bytes, str | None]:
            logical_id = runtime.resolve_name(function)
            if logical_id is None:
                raise StatesError("Lambda.ResourceNotFoundException", f"no function {function}")
            result = runtime.invoke(logical_id, payload)
            if result.ok:
                return result.payload, None
            if result.status == "timeout":
                return result.payload, "Sandbox.Timedout"
            return result.payload, result.error_type or "Lambda.Unknown"

        def read_object(bucket: str, key: str) -> bytes:
            body: bytes = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            return body

        executor = Executor(invoke, read_object, lambda line: log("stepfunctions", line))
        self.machines = LocalStateMachines(
            self.template, executor, lambda line: log("stepfunctions", line)
        )
        serve_in_thread(self.server, "stepfunctions", handler_for(self.machines))

    def stop(self) -> None:
        stop(self.server)


@service("StepFunctions")
def open_step_functions(template: Template, options: ServeOptions) -> StepFunctionsService | None:
    if not template.state_machines:
        return None
    if not options.s3:
        return None  # their Map reads its items from S3
    return StepFunctionsService(template, options)
