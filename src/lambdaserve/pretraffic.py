"""The PreTraffic hook of a canary deploy: replay known requests against the new version.

CodeDeploy calls the hook before shifting any traffic to a newly published model function
version. The hook finds that version in the deployment's AppSpec, invokes it with the
model's sample requests (cases generated from events/ by scripts/make_pretraffic.py, each
with the answer every model version gave when it was recorded) and reports `Failed` on any
wrong status or answer, so CodeDeploy stops and CloudFormation rolls back before a single
caller sees the new version. Answers compare by the version that answered
(`x-model-version`), numbers with a small tolerance (another CPU or onnxruntime build may
round differently); an error anywhere in the hook also fails the deployment.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("lambdaserve.pretraffic")

SUCCEEDED = "Succeeded"
FAILED = "Failed"
REL_TOLERANCE = 1e-4
ABS_TOLERANCE = 1e-5

# (function name, version, event) -> the function's answer (API Gateway payload 2.0 response)
Invoke = Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class Case:
    name: str  # the events/api file it came from
    model: str
    event: Mapping[str, Any]
    status: int
    bodies: Mapping[str, Any]  # model version -> the JSON body that version answers

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Case:
        return cls(raw["name"], raw["model"], raw["event"], int(raw["status"]), raw["bodies"])


@dataclass(frozen=True)
class Target:
    function: str  # name or ARN, as the AppSpec names it
    version: str


def target_of(codedeploy: Any, deployment_id: str) -> Target:
    """The function and the new version this deployment shifts traffic to (its AppSpec)."""
    info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
    revision = info["revision"]
    content = revision.get("appSpecContent", {}).get("content")
    if not content:
        got = codedeploy.get_application_revision(
            applicationName=info["applicationName"], revision=revision
        )
        content = got["revision"]["appSpecContent"]["content"]
    spec = json.loads(content)
    for resource in spec["Resources"]:
        for body in resource.values():
            if body.get("Type") == "AWS::Lambda::Function":
                props = body["Properties"]
                return Target(str(props["Name"]), str(props["TargetVersion"]))
    raise ValueError(f"deployment {deployment_id} shifts no Lambda function")


def model_of(function: str, model_functions: Mapping[str, str]) -> str:
    """The model a function serves, from the model -> function name map (name or ARN)."""
    name = function.split(":function:")[-1].split(":")[0]
    for model, candidate in model_functions.items():
        if candidate in (name, function):
            return model
    raise ValueError(f"function {function} serves no known model")


def check(case: Case, answer: Mapping[str, Any]) -> str | None:
    """None when the answer is right, else what is wrong with it."""
    status = int(answer.get("statusCode", 0))
    if status != case.status:
        return f"{case.name}: status {status}, expected {case.status}"
    raw = answer.get("body") or ""
    if answer.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    try:
        body = json.loads(raw)
    except ValueError:
        return f"{case.name}: answer is not JSON"
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    version = headers.get("x-model-version")
    if version is not None:
        if version not in case.bodies:
            return f"{case.name}: answered by version {version}, expected {sorted(case.bodies)}"
        return None if same(body, case.bodies[version]) else f"{case.name}: wrong answer"
    if any(same(body, expected) for expected in case.bodies.values()):
        return None
    return f"{case.name}: wrong answer"


def same(got: Any, expected: Any) -> bool:
    """JSON equality, numbers within tolerance."""
    if isinstance(expected, bool) or expected is None or isinstance(expected, str):
        return bool(got == expected) and type(got) is type(expected)
    if isinstance(expected, int | float):
        return (
            isinstance(got, int | float)
            and not isinstance(got, bool)
            and math.isclose(got, expected, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)
        )
    if isinstance(expected, list):
        return (
            isinstance(got, list)
            and len(got) == len(expected)
            and all(same(g, e) for g, e in zip(got, expected, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(got, dict)
            and got.keys() == expected.keys()
            and all(same(got[k], expected[k]) for k in expected)
        )
    return False


def replay(target: Target, model: str, cases: list[Case], invoke: Invoke) -> list[str]:
    """Every problem found replaying the model's cases against the target version."""
    mine = [c for c in cases if c.model == model]
    if not mine:
        return [f"no pre-traffic cases for model {model!r}"]
    problems = []
    for case in mine:
        try:
            answer = invoke(target.function, target.version, case.event)
        except Exception as exc:
            problems.append(f"{case.name}: invoke failed: {exc}")
            continue
        problem = check(case, answer)
        if problem is not None:
            problems.append(problem)
    return problems


def run_hook(
    event: Mapping[str, Any],
    codedeploy: Any,
    invoke: Invoke,
    cases: list[Case],
    model_functions: Mapping[str, str],
) -> dict[str, Any]:
    """Test the deployment's new version and tell CodeDeploy; never raises before reporting."""
    deployment_id = event["DeploymentId"]
    try:
        target = target_of(codedeploy, deployment_id)
        model = model_of(target.function, model_functions)
        problems = replay(target, model, cases, invoke)
    except Exception as exc:
        target, problems = None, [f"hook error: {type(exc).__name__}: {exc}"]
    status = FAILED if problems else SUCCEEDED
    log = logger.error if problems else logger.info
    log(
        "pre-traffic %s for %s: %s",
        status,
        f"{target.function}:{target.version}" if target else deployment_id,
        "; ".join(problems) or "every case answered right",
    )
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=deployment_id,
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return {"status": status, "problems": problems}


def lambda_invoker(client: Any) -> Invoke:
    """Invoke through the Lambda API (the function's new version, synchronously)."""

    def invoke(function: str, version: str, event: Mapping[str, Any]) -> Mapping[str, Any]:
        reply = client.invoke(
            FunctionName=function, Qualifier=version, Payload=json.dumps(event).encode()
        )
        payload = json.loads(reply["Payload"].read())
        if reply.get("FunctionError"):
            raise RuntimeError(f"{reply['FunctionError']}: {payload.get('errorMessage')}")
        return dict(payload)

    return invoke


def load_cases(text: str) -> list[Case]:
    return [Case.from_json(raw) for raw in json.loads(text)]
