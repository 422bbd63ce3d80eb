"""LocalLambda with real worker processes on the small template's handlers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import InvokeRejected
from lambdaserve.local.runtime import LocalLambda

pytestmark = pytest.mark.slow  # starts function processes


def call(runtime: LocalLambda, function: str, event: object = None) -> tuple[bool, object]:
    result = runtime.invoke(function, json.dumps(event or {}).encode())
    return result.ok, json.loads(result.payload)


def test_cold_then_warm_with_context_and_lambda_environment(
    runtime: LocalLambda, project: Path
) -> None:
    first = runtime.invoke("Echo", b'{"a": 1}')
    second = runtime.invoke("Echo", b'{"a": 2}')
    assert first.ok and second.ok
    assert first.init_ms is not None and first.init_ms > 0
    assert second.init_ms is None  # warm: same process, module state kept
    one, two = json.loads(first.payload), json.loads(second.payload)
    assert (one["count"], two["count"]) == (1, 2)
    assert one["event"] == {"a": 1}
    assert one["request_id"] == first.request_id
    assert 0 < one["remaining"] <= 10_000  # Timeout: 10
    assert one["function_name"] == "Echo"
    assert one["memory"] == "256"
    assert one["arn"] == "arn:aws:lambda:us-east-1:123456789012:function:Echo"
    env = one["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Echo"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["LAMBDA_TASK_ROOT"] == str(project.parent / "code")
    assert env["GREETING"] == "hello"
    assert env["TARGET"] == '{"boom":"Boom"}'
    # /opt/data is the content layer's directory on this machine.
    assert env["DATA_DIR"] == str(project.parent / "layers" / "data")
    assert env["AWS_ACCESS_KEY_ID"] == "local"
    assert one["cwd"] == str(project.parent / "code")
    assert one["path"][0] == str(project.parent / "code")
    report = first.report().split("\t")
    assert report[0] == f"REPORT RequestId: {first.request_id}"
    assert [part.split(":")[0] for part in report[1:]] == [
        "Duration",
        "Billed Duration",
        "Memory Size",
        "Max Memory Used",
        "Init Duration",
    ]
    assert "Init Duration" not in second.report()
    lines = [line for _, line in runtime.lines]  # type: ignore[attr-defined]
    assert f"START RequestId: {first.request_id} Version: $LATEST" in lines
    assert f"END RequestId: {first.request_id}" in lines


def test_handler_error_is_lambdas_error_payload(runtime: LocalLambda, project: Path) -> None:
    ok, error = call(runtime, "Boom", {"why": "bad input"})
    assert not ok
    assert isinstance(error, dict)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "boom: bad input"
    assert error["requestId"]
    trace = "".join(error["stackTrace"])
    assert "handlers.py" in trace and "in boom" in trace
    assert "bootstrap.py" not in trace  # the runtime client's own frames are left out
    # The environment survives a handler error, as in Lambda.
    assert runtime.invoke("Boom", b"{}").init_ms is None


def test_timeout_kills_the_environment_and_the_next_call_starts_fresh(
    runtime: LocalLambda,
) -> None:
    result = runtime.invoke("Sleepy", b'{"seconds": 30}')
    assert not result.ok
    error = json.loads(result.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    again = runtime.invoke("Sleepy", b'{"seconds": 0}')
    assert again.ok and again.init_ms is not None  # a new cold start


def test_prints_do_not_break_the_protocol(runtime: LocalLambda) -> None:
    ok, value = call(runtime, "Chatty")
    assert ok and value == "done"
    ok, value = call(runtime, "Chatty")
    assert ok and value == "done"


def test_exit_unmarshallable_import_and_missing_handler_errors(runtime: LocalLambda) -> None:
    ok, error = call(runtime, "Leave")
    assert not ok and isinstance(error, dict)
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]
    ok, error = call(runtime, "Unmarshallable")
    assert not ok and isinstance(error, dict)
    assert error["errorType"] == "Runtime.MarshalError"
    ok, error = call(runtime, "Broken")
    assert not ok and isinstance(error, dict)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "Unable to import module 'nosuchmodule'" in error["errorMessage"]
    ok, error = call(runtime, "Missing")
    assert not ok and isinstance(error, dict)
    assert error["errorType"] == "Runtime.HandlerNotFound"


def test_rejected_invocations(runtime: LocalLambda) -> None:
    with pytest.raises(InvokeRejected) as unknown:
        runtime.invoke("Nope", b"{}")
    assert unknown.value.error_type == "ResourceNotFoundException"
    with pytest.raises(InvokeRejected) as not_json:
        runtime.invoke("Echo", b"{nope")
    assert not_json.value.error_type == "InvalidRequestContentException"
    with pytest.raises(InvokeRejected) as too_big:
        runtime.invoke("Echo", b'"' + b"x" * (6 * 1024 * 1024) + b'"')
    assert too_big.value.status == 413


def test_name_resolution(runtime: LocalLambda) -> None:
    assert runtime.resolve_name("Echo") == "Echo"
    assert runtime.resolve_name("arn:aws:lambda:us-east-1:123456789012:function:Echo") == "Echo"
    assert runtime.resolve_name("Echo:$LATEST") == "Echo"
    assert runtime.resolve_name("Nope") is None


def test_source_mode_sees_this_environment_and_boto3(runtime: LocalLambda) -> None:
    ok, value = call(runtime, "TryImport", {"module": "boto3"})
    assert ok and value == {"imported": True}


def test_env_var_overrides(small_template: template.Template) -> None:
    local = LocalLambda(
        small_template, env_overrides={"Parameters": {"A": "1"}, "Echo": {"GREETING": "hey"}}
    )
    try:
        ok, value = call(local, "Echo")
        assert ok and isinstance(value, dict)
        assert value["env"]["GREETING"] == "hey" and value["env"]["A"] == "1"
    finally:
        local.close()


def test_close_stops_every_environment(small_template: template.Template) -> None:
    local = LocalLambda(small_template)
    local.invoke("Echo", b"{}")
    local.invoke("Chatty", b"{}")
    processes = [i.process for pool in local._pools.values() for i in pool._idle]
    assert len(processes) == 2 and all(p.poll() is None for p in processes)
    local.close()
    assert all(p.poll() is not None for p in processes)


@pytest.mark.skipif(sys.platform != "linux", reason="built layout checked on Linux")
def test_built_mode_sees_only_stdlib_layers_and_boto3(tmp_path: Path, project: Path) -> None:
    """A `sam build`-shaped tree: function dir = /var/task, layer dir = /opt."""
    build = tmp_path / "build"
    (build / "Fn").mkdir(parents=True)
    (build / "Fn" / "handlers.py").write_text((project.parent / "code" / "handlers.py").read_text())
    (build / "Lib" / "python" / "vendored").mkdir(parents=True)
    (build / "Lib" / "python" / "vendored" / "__init__.py").write_text("X = 1\n")
    (build / "Lib" / "models").mkdir()
    (build / "template.yaml").write_text(
        """
Resources:
  Lib:
    Type: AWS::Serverless::LayerVersion
    Properties: {ContentUri: Lib}
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: Fn
      Handler: handlers.try_import
      Layers: [!Ref Lib]
      Environment: {Variables: {MODELS: /opt/models}}
"""
    )
    local = LocalLambda(template.load(build / "template.yaml"), built=True)
    try:
        for module, expected in [("vendored", True), ("boto3", True), ("yaml", False)]:
            ok, value = call(local, "Fn", {"module": module})
            assert ok and isinstance(value, dict)
            assert value["imported"] is expected, (module, value)
        assert local.environment("Fn")["MODELS"] == str(build / "Lib" / "models")
    finally:
        local.close()


def test_snapstart_hooks_run_in_lambdas_order(small_template: template.Template) -> None:
    """With AWS_LAMBDA_INITIALIZATION_TYPE=snap-start, awslambdaric itself runs the
    before-snapshot hooks after init and the after-restore hooks before the first invoke."""
    snap = LocalLambda(small_template, initialization_type="snap-start")
    try:
        assert call(snap, "Hooks") == (True, ["before_snapshot", "after_restore", "invoke"])
        later = ["before_snapshot", "after_restore", "invoke", "invoke"]
        assert call(snap, "Hooks") == (True, later)  # hooks ran once, at init
    finally:
        snap.close()
    on_demand = LocalLambda(small_template)
    try:
        assert call(on_demand, "Hooks") == (True, ["invoke"])  # no snapshot, no hooks
    finally:
        on_demand.close()
