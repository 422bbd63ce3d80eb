"""The PreTraffic hook: real handlers answer the cases; CodeDeploy's API on botocore's Stubber.

moto 5.2 implements no CodeDeploy lifecycle hooks (no put_lifecycle_event_hook_execution_status,
no application revisions), so the one CodeDeploy client is stubbed with botocore's Stubber,
which checks every request against the service model. The function versions under test are
the real model handler (functions/model_api/app.py) on the shipped repository, or on one
with a broken model, invoked in-process instead of through Lambda.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import shutil
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdaserve.pretraffic import (
    FAILED,
    SUCCEEDED,
    Case,
    Target,
    check,
    lambda_invoker,
    load_cases,
    model_of,
    run_hook,
    same,
    target_of,
)
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

ROOT = Path(__file__).resolve().parents[2]
CASES = load_cases((ROOT / "functions" / "pre_traffic" / "cases.json").read_text())
FUNCTIONS = {"breast_cancer": "stack-BreastCancerFunction-AbC", "iris": "stack-IrisFunction-XyZ"}
EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "hook-exec-1"}


def appspec(function: str = "stack-BreastCancerFunction-AbC", version: str = "7") -> str:
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "BreastCancerFunction": {
                        "Type": "AWS::Lambda::Function",
                        "Properties": {
                            "Name": function,
                            "Alias": "live",
                            "CurrentVersion": "6",
                            "TargetVersion": version,
                        },
                    }
                }
            ],
        }
    )


@pytest.fixture
def codedeploy() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codedeploy", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def expect_deployment(stub: Stubber, content: str | None = None) -> None:
    revision: dict[str, Any] = {"revisionType": "AppSpecContent", "appSpecContent": {}}
    if content is not None:
        revision["appSpecContent"]["content"] = content
    stub.add_response(
        "get_deployment",
        {"deploymentInfo": {"applicationName": "app", "revision": revision}},
        {"deploymentId": EVENT["DeploymentId"]},
    )


def expect_status(stub: Stubber, status: str) -> None:
    stub.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": "hook-exec-1"},
        {
            "deploymentId": EVENT["DeploymentId"],
            "lifecycleEventHookExecutionId": "hook-exec-1",
            "status": status,
        },
    )


def model_handler(monkeypatch: pytest.MonkeyPatch, repository: Path, model: str) -> Any:
    monkeypatch.setenv("MODEL_NAME", model)
    monkeypatch.setenv("LAMBDASERVE_MODEL_REPOSITORY", str(repository))
    monkeypatch.delenv("LAMBDASERVE_TRAFFIC_PARAMETER", raising=False)
    spec = importlib.util.spec_from_file_location(
        f"pretraffic_{model}", ROOT / "functions" / "model_api" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def invoker(handler: Any, calls: list[tuple[str, str]]) -> Any:
    def invoke(function: str, version: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        calls.append((function, version))
        return dict(handler(json.loads(json.dumps(event)), None))

    return invoke


# --------------------------------------------------------------------------- the whole hook


def test_a_healthy_version_passes_every_case(
    codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stub = codedeploy
    expect_deployment(stub, appspec())
    expect_status(stub, SUCCEEDED)
    calls: list[tuple[str, str]] = []
    handler = model_handler(monkeypatch, SOURCE_MODEL_REPOSITORY, "breast_cancer")
    result = run_hook(EVENT, client, invoker(handler, calls), CASES, FUNCTIONS)
    assert result == {"status": SUCCEEDED, "problems": []}
    mine = [c for c in CASES if c.model == "breast_cancer"]
    assert len(calls) == len(mine) >= 5
    assert set(calls) == {("stack-BreastCancerFunction-AbC", "7")}


def test_a_version_with_a_wrong_model_fails_the_deployment(
    codedeploy: tuple[Any, Stubber], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # The new version ships a repository whose model files were swapped: same inputs and
    # outputs, other answers, so only checking answers can catch it.
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "breast_cancer", tmp_path / "breast_cancer")
    v1, v2 = (tmp_path / "breast_cancer" / v / "model.onnx" for v in ("1", "2"))
    swapped = v1.read_bytes()
    v1.write_bytes(v2.read_bytes())
    v2.write_bytes(swapped)
    client, stub = codedeploy
    expect_deployment(stub, appspec())
    expect_status(stub, FAILED)
    handler = model_handler(monkeypatch, tmp_path, "breast_cancer")
    result = run_hook(EVENT, client, invoker(handler, []), CASES, FUNCTIONS)
    assert result["status"] == FAILED
    assert any("wrong answer" in p for p in result["problems"])


def test_an_invoke_error_fails_the_deployment(codedeploy: tuple[Any, Stubber]) -> None:
    def crash(function: str, version: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        raise RuntimeError("Runtime.ImportModuleError: No module named 'onnxruntime'")

    client, stub = codedeploy
    expect_deployment(stub, appspec())
    expect_status(stub, FAILED)
    result = run_hook(EVENT, client, crash, CASES, FUNCTIONS)
    assert result["status"] == FAILED
    assert all("invoke failed: Runtime.ImportModuleError" in p for p in result["problems"])


def test_a_hook_error_still_reports_failed(codedeploy: tuple[Any, Stubber]) -> None:
    client, stub = codedeploy
    stub.add_client_error("get_deployment", "DeploymentDoesNotExistException", "no such")
    expect_status(stub, FAILED)
    result = run_hook(EVENT, client, lambda *a: {}, CASES, FUNCTIONS)
    assert result["problems"][0].startswith("hook error: DeploymentDoesNotExistException")


def test_an_unknown_function_fails(codedeploy: tuple[Any, Stubber]) -> None:
    client, stub = codedeploy
    expect_deployment(stub, appspec(function="someone-elses-function"))
    expect_status(stub, FAILED)
    result = run_hook(EVENT, client, lambda *a: {}, CASES, FUNCTIONS)
    assert result["problems"] == [
        "hook error: ValueError: function someone-elses-function serves no known model"
    ]


# --------------------------------------------------------------------------- the parts


def test_target_from_the_application_revision_when_the_deployment_omits_content(
    codedeploy: tuple[Any, Stubber],
) -> None:
    client, stub = codedeploy
    expect_deployment(stub, None)
    stub.add_response(
        "get_application_revision",
        {"revision": {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec()}}},
        {
            "applicationName": "app",
            "revision": {"revisionType": "AppSpecContent", "appSpecContent": {}},
        },
    )
    assert target_of(client, EVENT["DeploymentId"]) == Target("stack-BreastCancerFunction-AbC", "7")


def test_model_of_accepts_names_and_arns() -> None:
    assert model_of("stack-IrisFunction-XyZ", FUNCTIONS) == "iris"
    arn = "arn:aws:lambda:us-east-1:123456789012:function:stack-IrisFunction-XyZ"
    assert model_of(arn, FUNCTIONS) == "iris"
    assert model_of(arn + ":live", FUNCTIONS) == "iris"


def test_same_compares_numbers_with_tolerance_and_everything_else_exactly() -> None:
    assert same({"p": [0.5, 1]}, {"p": [0.50000001, 1]})
    assert not same({"p": [0.5]}, {"p": [0.51]})
    assert not same({"p": 1}, {"p": True})
    assert not same({"label": "benign"}, {"label": "malignant"})
    assert not same({"p": [1, 2]}, {"p": [1]})
    assert not same({"p": 1, "q": 2}, {"p": 1})
    assert same(None, None) and not same(0, None)


def case(bodies: dict[str, Any], status: int = 200) -> Case:
    return Case("x.json", "m", {}, status, bodies)


def answer(body: Any, status: int = 200, version: str | None = None) -> dict[str, Any]:
    headers = {"content-type": "application/json"}
    if version is not None:
        headers["X-Model-Version"] = version
    return {"statusCode": status, "headers": headers, "body": json.dumps(body)}


def test_check_uses_the_answering_versions_body() -> None:
    bodies = {"1": {"prediction": 0}, "2": {"prediction": 1}}
    assert check(case(bodies), answer({"prediction": 1}, version="2")) is None
    assert check(case(bodies), answer({"prediction": 1}, version="1")) == "x.json: wrong answer"
    assert "answered by version 3" in str(check(case(bodies), answer({}, version="3")))
    assert check(case(bodies), answer({"prediction": 0})) is None  # no header: any version
    assert check(case(bodies), answer({"prediction": 2})) == "x.json: wrong answer"
    assert check(case(bodies), answer({}, 500)) == "x.json: status 500, expected 200"


def test_check_reads_base64_bodies_and_refuses_non_json() -> None:
    raw = base64.b64encode(json.dumps({"prediction": 0}).encode()).decode()
    b64 = {"statusCode": 200, "body": raw, "isBase64Encoded": True}
    assert check(case({"1": {"prediction": 0}}), b64) is None
    bad = {"statusCode": 200, "body": "<html>"}
    assert check(case({"1": {}}), bad) == "x.json: answer is not JSON"


def test_lambda_invoker_calls_the_version_and_surfaces_function_errors() -> None:
    client = boto3.client(
        "lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    import io

    from botocore.response import StreamingBody

    def payload(doc: Any) -> StreamingBody:
        raw = json.dumps(doc).encode()
        return StreamingBody(io.BytesIO(raw), len(raw))

    with Stubber(client) as stub:
        stub.add_response(
            "invoke",
            {"StatusCode": 200, "Payload": payload({"statusCode": 200, "body": "{}"})},
            {"FunctionName": "fn", "Qualifier": "7", "Payload": b'{"a": 1}'},
        )
        stub.add_response(
            "invoke",
            {
                "StatusCode": 200,
                "FunctionError": "Unhandled",
                "Payload": payload({"errorMessage": "boom", "errorType": "Runtime.ExitError"}),
            },
            {"FunctionName": "fn", "Qualifier": "7", "Payload": b'{"a": 1}'},
        )
        invoke = lambda_invoker(client)
        assert invoke("fn", "7", {"a": 1}) == {"statusCode": 200, "body": "{}"}
        with pytest.raises(RuntimeError, match="Unhandled: boom"):
            invoke("fn", "7", {"a": 1})


def test_every_model_has_cases_and_every_case_a_right_answer() -> None:
    models = {c.model for c in CASES}
    assert models == {"breast_cancer", "diabetes", "digits", "iris", "reviews"}
    for c in CASES:
        assert c.status == 200 and c.bodies, c.name
