"""Deployment options in template.yaml: SnapStart, provisioned concurrency, ephemeral storage.

The refusals are CloudFormation Rules, evaluated here as CloudFormation evaluates them; the
wiring is checked on the template as written and as SAM's own translator expands it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cfnlint.decode import cfn_yaml

from lambdaserve.cfn_rules import violations

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


@pytest.fixture(scope="module")
def template() -> Any:
    return cfn_yaml.load(str(TEMPLATE))


def model_functions(template: Any) -> dict[str, Any]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and "MODEL_NAME" in resource["Properties"].get("Environment", {}).get("Variables", {})
    }


def pc_parameter(function: str) -> str:
    return function.removesuffix("Function") + "ProvisionedConcurrency"


def test_every_model_function_has_the_options_wired(template: Any) -> None:
    functions = model_functions(template)
    assert functions
    for name, props in functions.items():
        parameter = pc_parameter(name)
        condition = name.removesuffix("Function") + "Provisioned"
        assert props["AutoPublishAlias"] == "live"
        assert props["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
        assert props["EphemeralStorage"] == {"Size": {"Ref": "ModelEphemeralStorage"}}
        assert props["ProvisionedConcurrencyConfig"] == {
            "Fn::If": [
                condition,
                {"ProvisionedConcurrentExecutions": {"Ref": parameter}},
                {"Ref": "AWS::NoValue"},
            ]
        }
        assert template["Parameters"][parameter]["Default"] == 0
        assert template["Conditions"][condition] == {
            "Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, 0]}]
        }


def test_defaults_deploy_without_snapstart_or_provisioned_concurrency(template: Any) -> None:
    assert template["Parameters"]["SnapStart"]["Default"] == "None"
    assert violations(template, {}) == []


def test_snapstart_alone_is_accepted(template: Any) -> None:
    assert violations(template, {"SnapStart": "PublishedVersions"}) == []


def test_provisioned_concurrency_or_big_tmp_alone_is_accepted(template: Any) -> None:
    overrides = {pc_parameter(f): "2" for f in model_functions(template)}
    assert violations(template, {**overrides, "ModelEphemeralStorage": "2048"}) == []


def test_snapstart_with_provisioned_concurrency_is_refused(template: Any) -> None:
    for function in model_functions(template):
        parameter = pc_parameter(function)
        refused = violations(template, {"SnapStart": "PublishedVersions", parameter: "1"})
        assert [v.rule for v in refused] == ["SnapStartWithoutProvisionedConcurrency"]
        assert parameter in refused[0].description


def test_snapstart_with_ephemeral_storage_above_512_mb_is_refused(template: Any) -> None:
    refused = violations(
        template, {"SnapStart": "PublishedVersions", "ModelEphemeralStorage": "513"}
    )
    assert [v.rule for v in refused] == ["SnapStartWithDefaultEphemeralStorage"]
    assert "512" in refused[0].description


def test_sams_translator_puts_the_api_and_provisioned_concurrency_on_the_alias(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sam_translate import deployed  # language extensions, then SAM's transform

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    out = deployed({"SnapStart": "PublishedVersions"})
    resources = out["Resources"]
    assert set(out["Rules"]) == {
        "SnapStartWithoutProvisionedConcurrency",
        "SnapStartWithDefaultEphemeralStorage",
        "JwtNeedsIssuerAndAudience",
    }
    for function in model_functions(cfn_yaml.load(str(TEMPLATE))):
        alias = resources[f"{function}Aliaslive"]["Properties"]
        assert alias["Name"] == "live"
        # Language extensions resolve the conditions: SnapStart deploys have none provisioned.
        assert "ProvisionedConcurrencyConfig" not in alias
        assert resources[function]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
        parameter = function.removesuffix("Function") + "ProvisionedConcurrency"
        provisioned = deployed({parameter: "3"})["Resources"][f"{function}Aliaslive"]
        assert provisioned["Properties"]["ProvisionedConcurrencyConfig"] == {
            "ProvisionedConcurrentExecutions": "3"
        }
        permissions = [
            r["Properties"]["FunctionName"]
            for name, r in resources.items()
            if r["Type"] == "AWS::Lambda::Permission" and name.startswith(function)
        ]
        assert permissions
        assert all(p == {"Ref": f"{function}Aliaslive"} for p in permissions)
    api = next(r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api")
    uris = [
        operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
        for path, item in api["Properties"]["Body"]["paths"].items()
        if path.startswith(("/models/", "/v1/models/", "/v2/models/"))
        for operation in item.values()
    ]
    assert uris
    assert all("Aliaslive}" in uri for uri in uris)


def test_the_index_forwards_to_the_alias_the_api_serves(template: Any) -> None:
    index = template["Resources"]["IndexFunction"]["Properties"]["Environment"]["Variables"]
    aliases = {props["AutoPublishAlias"] for props in model_functions(template).values()}
    assert aliases == {index["LAMBDASERVE_MODEL_FUNCTION_ALIAS"]}
