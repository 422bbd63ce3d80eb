"""Canary deploys in template.yaml: alias, DeploymentPreference, alarms, hook, traffic override.

Checked on the template and on what SAM's own translator makes of it (the CloudFormation
that is deployed); `make validate` (sam validate --lint, CI) keeps it cfn-lint clean.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from lambdaserve.repository import ModelRepository

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
DEPLOYMENT_TYPES = ["Canary10Percent5Minutes", "Linear10PercentEvery1Minute", "AllAtOnce"]


@pytest.fixture(scope="module")
def template() -> Any:
    return cfn_yaml.load(str(TEMPLATE))


def model_functions(template: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """logical id -> (model name, properties) of every model function."""
    return {
        logical_id: (r["Properties"]["Environment"]["Variables"]["MODEL_NAME"], r["Properties"])
        for logical_id, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
        and "MODEL_NAME" in r["Properties"].get("Environment", {}).get("Variables", {})
    }


@pytest.fixture(scope="module")
def translated(template: Any) -> dict[str, Any]:
    from sam_translate import deployed  # language extensions, then SAM's transform

    resources: dict[str, Any] = deployed()["Resources"]
    return resources


def test_deployment_type_is_a_parameter_with_the_three_strategies(template: Any) -> None:
    parameter = template["Parameters"]["DeploymentType"]
    assert parameter["AllowedValues"] == DEPLOYMENT_TYPES
    assert parameter["Default"] == "Canary10Percent5Minutes"


def test_every_model_function_deploys_as_a_canary_with_its_alarms_and_the_hook(
    template: Any, repository: ModelRepository
) -> None:
    functions = model_functions(template)
    assert sorted(model for model, _ in functions.values()) == repository.names()
    for logical_id, (model, props) in functions.items():
        prefix = logical_id.removesuffix("Function")
        assert props["AutoPublishAlias"] == "live"
        preference = props["DeploymentPreference"]
        assert preference["Type"] == {"Ref": "DeploymentType"}
        assert preference["Hooks"] == {"PreTraffic": {"Ref": "PreTrafficFunction"}}
        alarms = [a["Ref"] for a in preference["Alarms"]]
        assert alarms == [
            f"{prefix}CanaryErrorRateAlarm",
            f"{prefix}CanaryLatencyAlarm",
            f"{prefix}CanaryQualityAlarm",
        ]
        for alarm in alarms:
            body = template["Resources"][alarm]
            assert body["Type"] == "AWS::CloudWatch::Alarm"
            assert body["Properties"]["TreatMissingData"] == "notBreaching"
            assert model in body["Properties"]["AlarmDescription"]


def test_alarms_watch_5xx_rate_p99_latency_of_the_new_version_and_model_quality(
    template: Any, repository: ModelRepository
) -> None:
    resources = template["Resources"]
    for logical_id, (model, _) in model_functions(template).items():
        prefix = logical_id.removesuffix("Function")
        rate = resources[f"{prefix}CanaryErrorRateAlarm"]["Properties"]
        stats = {m["Id"]: m.get("MetricStat", {}).get("Metric") for m in rate["Metrics"]}
        assert stats["requests"]["MetricName"] == "Requests"
        assert stats["server"]["MetricName"] == "Errors5xx"
        for emf in (stats["requests"], stats["server"]):
            assert emf["Namespace"] == "lambdaserve"
            assert emf["Dimensions"] == [{"Name": "model", "Value": model}]
        assert stats["crashes"]["Namespace"] == "AWS/Lambda"
        assert rate["Threshold"] == {"Ref": "ErrorRateAlarmPercent"}

        latency = resources[f"{prefix}CanaryLatencyAlarm"]["Properties"]
        assert latency["ExtendedStatistic"] == "p99"
        dims = {d["Name"]: d["Value"] for d in latency["Dimensions"]}
        assert dims["ExecutedVersion"] == {"Fn::GetAtt": [logical_id, "Version.Version"]}
        assert dims["Resource"] == {"Fn::Sub": f"${{{logical_id}}}:live"}

        quality = resources[f"{prefix}CanaryQualityAlarm"]["Properties"]
        assert quality["Namespace"] == "lambdaserve"
        assert quality["Dimensions"] == [{"Name": "model", "Value": model}]
        manifest = repository.manifest(model, repository.resolve(model))
        if manifest.is_classifier:
            assert quality["MetricName"] == "PredictionCorrect"
            assert quality["ComparisonOperator"] == "LessThanThreshold"
        else:
            assert quality["MetricName"] == "AbsoluteError"
            assert quality["ComparisonOperator"] == "GreaterThanThreshold"


def test_the_hook_can_be_invoked_by_codedeploy_and_invoke_every_model_function(
    template: Any, repository: ModelRepository
) -> None:
    hook = template["Resources"]["PreTrafficFunction"]["Properties"]
    name = hook["FunctionName"]["Fn::Sub"][0]
    assert name.startswith("CodeDeployHook_")  # what AWSCodeDeployRoleForLambda may invoke
    assert len(name.replace("${Id}", "x" * 8)) <= 64
    assert hook["CodeUri"] == "functions/pre_traffic/"
    mapping = hook["Environment"]["Variables"]["LAMBDASERVE_MODEL_FUNCTIONS"]["Fn::Sub"]
    functions = json.loads(re.sub(r"\$\{(\w+)\}", r"\1", mapping))
    assert sorted(functions) == repository.names()
    invokable = {p["LambdaInvokePolicy"]["FunctionName"]["Ref"] for p in hook["Policies"][:-1]}
    assert invokable == set(model_functions(template))
    actions = {
        action
        for statement in hook["Policies"][-1]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert actions == {
        "codedeploy:GetDeployment",
        "codedeploy:GetApplicationRevision",
        "codedeploy:PutLifecycleEventHookExecutionStatus",
    }


def test_each_model_reads_its_own_traffic_override_parameter(template: Any) -> None:
    resources = template["Resources"]
    for logical_id, (model, props) in model_functions(template).items():
        prefix = logical_id.removesuffix("Function")
        parameter = resources[f"{prefix}TrafficOverride"]
        path = f"/lambdaserve/${{AWS::StackName}}/{model}/traffic"
        assert parameter["Type"] == "AWS::SSM::Parameter"
        assert parameter["Properties"]["Name"] == {"Fn::Sub": path}
        assert parameter["Properties"]["Value"] == "{}"
        env = props["Environment"]["Variables"]
        assert env["LAMBDASERVE_TRAFFIC_PARAMETER"] == {"Fn::Sub": path}
        [policy] = [p for p in props["Policies"] if "SSMParameterReadPolicy" in p]
        assert policy["SSMParameterReadPolicy"]["ParameterName"] == {"Fn::Sub": path[1:]}


def test_translated_aliases_shift_through_codedeploy_with_the_hook_and_alarms(
    template: Any, translated: dict[str, Any]
) -> None:
    assert translated["ServerlessDeploymentApplication"]["Type"] == "AWS::CodeDeploy::Application"
    for logical_id in model_functions(template):
        prefix = logical_id.removesuffix("Function")
        update = translated[f"{logical_id}Aliaslive"]["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        assert update["BeforeAllowTrafficHook"] == {"Ref": "PreTrafficFunction"}
        assert update["DeploymentGroupName"] == {"Ref": f"{logical_id}DeploymentGroup"}
        group = translated[f"{logical_id}DeploymentGroup"]["Properties"]
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert group["AlarmConfiguration"]["Alarms"] == [
            {"Name": {"Ref": f"{prefix}Canary{kind}Alarm"}}
            for kind in ("ErrorRate", "Latency", "Quality")
        ]
        assert group["AutoRollbackConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]
        # SAM resolves the parameter when it transforms (here its default).
        assert group["DeploymentConfigName"]["Fn::Sub"][1] == {
            "ConfigName": "Canary10Percent5Minutes"
        }
    assert "AutoPublishAlias" not in json.dumps(translated["PreTrafficFunction"])
