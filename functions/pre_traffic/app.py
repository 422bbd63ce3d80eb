"""Lambda entry point of the PreTraffic hook every model function's canary deploy runs.

CodeDeploy invokes it with {DeploymentId, LifecycleEventHookExecutionId}; it replays
cases.json against the new version and reports Succeeded or Failed (lambdaserve.pretraffic).
"""

import json
import os
from pathlib import Path
from typing import Any

import boto3

from lambdaserve.pretraffic import lambda_invoker, load_cases, run_hook

CASES = load_cases((Path(__file__).parent / "cases.json").read_text())
MODEL_FUNCTIONS = json.loads(os.environ["LAMBDASERVE_MODEL_FUNCTIONS"])
codedeploy = boto3.client("codedeploy")
invoke = lambda_invoker(boto3.client("lambda"))


def handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    return run_hook(event, codedeploy, invoke, CASES, MODEL_FUNCTIONS)
