"""Template wiring: copies a model's block and entries, keeps every other byte, undoes exactly."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from modelkit_helpers import ROOT

from lambdaserve.local import template
from lambdaserve.modelkit import wiring
from lambdaserve.modelkit.errors import ModelKitError

TEMPLATE = (ROOT / "template.yaml").read_text()


def _comments(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("#")]


def test_add_then_remove_gives_back_the_same_bytes() -> None:
    added = wiring.add_model(TEMPLATE, "fraud_v2", 2048, "fraud scoring API")
    assert wiring.remove_model(added, "fraud_v2") == TEMPLATE


def test_adding_keeps_comments_and_only_adds_lines() -> None:
    added = wiring.add_model(TEMPLATE, "fraud", None, "fraud scoring API")
    assert _comments(added) == _comments(TEMPLATE)
    old, new = TEMPLATE.splitlines(), added.splitlines()
    changed = [(n, line) for n, line in enumerate(old) if line not in new]
    # Only the model maps (the index's, the PreTraffic hook's) change in place; everything
    # else is kept, new lines added.
    assert len(changed) == 2
    assert all("LAMBDASERVE_MODEL_FUNCTIONS" in line for _, line in changed)


def test_a_new_model_gets_its_canary_companions_and_the_pretraffic_hook_replays_it(
    tmp_path: Path,
) -> None:
    added = wiring.add_model(TEMPLATE, "fraud", None, "fraud scoring API")
    for logical_id in (
        "FraudTrafficOverride:",
        "FraudCanaryErrorRateAlarm:",
        "FraudCanaryLatencyAlarm:",
        "FraudCanaryQualityAlarm:",
    ):
        assert f"\n  {logical_id}\n" in added, logical_id
    path = tmp_path / "template.yaml"
    path.write_text(added)
    hook = template.load(path).functions["PreTrafficFunction"]
    assert '"fraud":"FraudFunction"' in hook.environment["LAMBDASERVE_MODEL_FUNCTIONS"]
    block = added[added.index("  PreTrafficFunction:") :]
    assert "LambdaInvokePolicy: {FunctionName: !Ref FraudFunction}" in block.split("\n\n")[0]


def test_the_copied_resources_name_the_new_model_in_every_value() -> None:
    """Parameter paths and descriptions too: a function must not read another's override."""
    added = wiring.add_model(TEMPLATE, "fraud", None, "fraud scoring API")
    new_lines = [line for line in added.splitlines() if line not in TEMPLATE.splitlines()]
    source = next(n for n in ("iris", "breast_cancer", "diabetes", "digits") if n in TEMPLATE)
    leaks = [line for line in new_lines if re.search(rf"(?<![\w.-]){source}(?![\w-])", line)]
    leaks = [line for line in leaks if "LAMBDASERVE_MODEL_FUNCTIONS" not in line]
    assert leaks == []
    assert 'ParameterName: !Sub "lambdaserve/${AWS::StackName}/fraud/traffic"' in added


def test_per_model_parameters_conditions_and_rule_assertions_are_copied() -> None:
    added = wiring.add_model(TEMPLATE, "fraud", None, "fraud scoring API")
    for section, line in (
        ("Parameters:", "  FraudProvisionedConcurrency:\n"),
        ("Conditions:", "  FraudProvisioned: !Not [!Equals [!Ref FraudProvisionedConcurrency, 0]]"),
        ("Rules:", "      - Assert: !Equals [!Ref FraudProvisionedConcurrency, "),
        ("Resources:", "        - FraudProvisioned\n"),
    ):
        assert added.index(section) < added.index(line)
    assert "set FraudProvisionedConcurrency to 0 or SnapStart to None" in added


def test_the_local_runtime_reads_the_new_function_its_routes_and_index_entries(
    tmp_path: Path,
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(wiring.add_model(TEMPLATE, "fraud", 3008, "fraud scoring API"))
    tpl = template.load(path)
    function = tpl.functions["FraudFunction"]
    assert function.environment["MODEL_NAME"] == "fraud"
    assert function.memory == 3008
    assert {r.key for r in function.routes} == {
        f"{m} {p.replace('{m}', 'fraud')}" for m, p in wiring.MODEL_ROUTES
    }
    index = tpl.functions["IndexFunction"]
    assert '"fraud":"FraudFunction"' in index.environment["LAMBDASERVE_MODEL_FUNCTIONS"]
    assert "!Ref FraudFunction}" in path.read_text()


COMPANIONS = """
Parameters:
  IrisProvisionedConcurrency:
    Type: Number
    Default: 0
Conditions:
  HasIrisProvisionedConcurrency: !Not [!Equals [!Ref IrisProvisionedConcurrency, 0]]
Resources:
  IndexFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/index/
      Handler: app.handler
      Environment:
        Variables:
          LAMBDASERVE_MODEL_FUNCTIONS: !Sub '{"iris":"${IrisFunction.Alias}",MORE}'
      Policies:
        # one per model
        - LambdaInvokePolicy: {FunctionName: !Ref IrisFunction.Alias}
        - LambdaInvokePolicy: {FunctionName: !Ref IrisV2Function.Alias}
      Events:
        CatchAll: {Type: HttpApi, Properties: {Path: "/{proxy+}", Method: ANY}}

  IrisFunction:
    Type: AWS::Serverless::Function
    Properties:
      Description: iris classifier API
      CodeUri: functions/model_api/
      Handler: app.handler
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig: !If
        - HasIrisProvisionedConcurrency
        - ProvisionedConcurrentExecutions: !Ref IrisProvisionedConcurrency
        - !Ref AWS::NoValue
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref IrisErrorsAlarm]
      Environment:
        Variables:
          MODEL_NAME: iris
      Events:
        Info: {Type: HttpApi, Properties: {Path: /models/iris, Method: GET}}
        Routes: {Type: HttpApi, Properties: {Path: "/models/iris/{proxy+}", Method: ANY}}
        TfStatus: {Type: HttpApi, Properties: {Path: /v1/models/iris, Method: GET}}
        TfRoutes: {Type: HttpApi, Properties: {Path: "/v1/models/iris/{proxy+}", Method: ANY}}
        V2Metadata: {Type: HttpApi, Properties: {Path: /v2/models/iris, Method: GET}}
        V2Routes: {Type: HttpApi, Properties: {Path: "/v2/models/iris/{proxy+}", Method: ANY}}

  IrisErrorsAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      AlarmDescription: 5xx of the iris function
      Dimensions: [{Name: FunctionName, Value: !Ref IrisFunction}]

  IrisV2Function:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/model_api/
      Handler: app.handler
      Environment:
        Variables:
          MODEL_NAME: iris_v2
      Events:
        Info: {Type: HttpApi, Properties: {Path: /models/iris_v2, Method: GET}}

  # ---- other things
  Bucket:
    Type: AWS::S3::Bucket
""".replace("MORE", '"iris_v2":"${IrisV2Function.Alias}"')


def test_what_other_tooling_adds_per_model_is_copied_and_removed_with_it() -> None:
    added = wiring.add_model(COMPANIONS, "wine", 1024, "wine API")
    for expected in (
        "  WineProvisionedConcurrency:\n",
        "HasWineProvisionedConcurrency: !Not [!Equals [!Ref WineProvisionedConcurrency, 0]]",
        "  WineErrorsAlarm:\n",
        "Alarms: [!Ref WineErrorsAlarm]",
        "Value: !Ref WineFunction}",
        "- LambdaInvokePolicy: {FunctionName: !Ref WineFunction.Alias}",
        '"wine":"${WineFunction.Alias}"',
        "AutoPublishAlias: live",
        "Path: /v2/models/wine, Method: GET",
    ):
        assert expected in added
    # IrisV2Function belongs to iris_v2, not to iris: it is not copied.
    assert "WineV2Function" not in added
    assert added.index("  WineFunction:") < added.index("  WineErrorsAlarm:")
    assert added.index("  IrisV2Function:") < added.index("  WineFunction:")
    assert added.index("  WineFunction:") < added.index("  # ---- other things")
    assert wiring.remove_model(added, "wine") == COMPANIONS


def test_removing_a_model_takes_its_companions_and_keeps_the_longer_named_model() -> None:
    removed = wiring.remove_model(COMPANIONS, "iris")
    assert "IrisErrorsAlarm" not in removed and "IrisProvisionedConcurrency" not in removed
    assert "  IrisV2Function:" in removed
    assert '{"iris_v2":"${IrisV2Function.Alias}"}' in removed
    assert "- LambdaInvokePolicy: {FunctionName: !Ref IrisV2Function.Alias}" in removed
    assert "# one per model" in removed


def test_removal_is_refused_while_something_else_refers_to_the_function() -> None:
    text = TEMPLATE.replace(
        "Outputs:\n", "Outputs:\n  IrisArn:\n    Value: !GetAtt IrisFunction.Arn\n", 1
    )
    # IrisArn is iris's own output (its token), so it goes with it ...
    assert "IrisArn" not in wiring.remove_model(text, "iris")
    other = TEMPLATE.replace(
        "Outputs:\n", "Outputs:\n  FirstModel:\n    Value: !GetAtt IrisFunction.Arn\n", 1
    )
    # ... but an output of the stack that names it must be edited by a person first.
    with pytest.raises(
        ModelKitError,
        match=r"still refers to what .iris. removes: Outputs\.FirstModel \(IrisFunction\)",
    ):
        wiring.remove_model(other, "iris")


def test_a_model_whose_token_prefixes_another_is_its_own() -> None:
    added = wiring.add_model(COMPANIONS, "wine", 1024, "wine API")
    both = wiring.add_model(added, "wine_v2", 1024, "wine v2 API")
    assert "  WineV2Function:" in both
    assert wiring.remove_model(both, "wine").count("WineV2Function") == both.count("WineV2Function")
    assert wiring.remove_model(both, "wine_v2") == added


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("iris", "already has IrisFunction serving model 'iris'"),
        ("Iris", "would reuse logical ids already in the template"),
    ],
)
def test_clashing_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ModelKitError, match=message):
        wiring.add_model(TEMPLATE, name, None, "")


def test_a_template_that_does_not_parse_is_one_line() -> None:
    with pytest.raises(ModelKitError, match="template does not parse") as caught:
        wiring.add_model("Resources: [\n  - a\n b: c", "x", None, "")
    assert "\n" not in caught.value.message


@pytest.mark.slow
def test_sam_validate_lint_accepts_the_wired_template(tmp_path: Path) -> None:
    sam = Path(ROOT / ".venv" / "bin" / "sam")
    path = tmp_path / "template.yaml"
    path.write_text(wiring.add_model(TEMPLATE, "fraud", 2048, "fraud scoring API"))
    for sub in ("functions", "layers"):
        (tmp_path / sub).symlink_to(ROOT / sub)
    result = subprocess.run(
        [str(sam), "validate", "--lint", "-t", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"SAM_CLI_TELEMETRY": "0", "PATH": str(sam.parent), "HOME": str(tmp_path)},
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"is a valid SAM Template", result.stdout + result.stderr)
