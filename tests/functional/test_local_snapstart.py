"""SnapStart hooks in the local runtime: AWS's runtime client runs them in Lambda's order.

`lambdaserve invoke --snapstart` with SnapStart on: init, the before-snapshot hooks,
`restore/next`, the after-restore hooks, then the first invocation - all by awslambdaric,
as in Lambda. A failing after-restore hook fails the environment, never serves.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "events" / "api" / "iris_predict.json"
HOOK_LINES = [
    "before-snapshot hook forget-aws-sessions",
    # the traffic policy's (registered while the dataplane is built, before the app's own)
    "after-restore hook traffic-rng",
    "after-restore hook traffic-override",
    "after-restore hook metrics-sampler",  # the metrics stage's, composed before the cache
    "after-restore hook reseed-inference-ids",
    "after-restore hook prediction-cache",  # registered when the dataplane is composed
    "after-restore hook reseed-random",
    "after-restore hook forget-aws-sessions",
    "after-restore hook warm-models",
]


def invoke(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdaserve.cli", "invoke", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )


def messages(stderr: str) -> list[str]:
    """The functions' JSON log messages and the runtime's own lines, in order."""
    out = []
    for line in stderr.splitlines():
        try:
            out.append(str(json.loads(line)["message"]))
        except (ValueError, KeyError, TypeError):
            out.append(line)
    return out


def test_hooks_run_in_lambdas_order_before_the_first_invocation() -> None:
    run = invoke(
        "IrisFunction",
        "--snapstart",
        "--parameter-overrides",
        "SnapStart=PublishedVersions",
        "-e",
        str(EVENT),
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(json.loads(run.stdout)["body"])["label"] == "setosa"
    logged = messages(run.stderr)
    hooks = [m for m in logged if " hook " in m]
    assert [h.split(" done in ")[0] for h in hooks] == HOOK_LINES
    request = next(i for i, m in enumerate(logged) if m.startswith("POST /models/iris/predict"))
    assert all(logged.index(h) < request for h in hooks)


@pytest.mark.parametrize(
    "args",
    [
        ["--snapstart"],  # the template's default leaves SnapStart off
        ["--parameter-overrides", "SnapStart=PublishedVersions"],  # no flag: on-demand init
    ],
)
def test_no_hooks_without_snapstart(args: list[str]) -> None:
    run = invoke("IrisFunction", *args, "-e", str(EVENT))
    assert run.returncode == 0, run.stderr
    assert not [m for m in messages(run.stderr) if " hook " in m]


def test_a_failing_after_restore_hook_fails_the_environment(tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(
        "from lambdaserve import snapstart\n\n\n"
        "def broken():\n    raise RuntimeError('model cannot warm')\n\n\n"
        "snapstart.after_restore('broken', broken)\n\n\n"
        "def handler(event, context):\n    return {'served': True}\n"
    )
    (tmp_path / "template.yaml").write_text(
        f"""Transform: AWS::Serverless-2016-10-31
Resources:
  RuntimeLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {ROOT / "layers" / "runtime"}
    Metadata:
      BuildMethod: makefile
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: code
      Handler: app.handler
      Runtime: python3.12
      AutoPublishAlias: live
      SnapStart:
        ApplyOn: PublishedVersions
      Layers: [!Ref RuntimeLayer]
"""
    )
    run = invoke("Broken", "-t", str(tmp_path / "template.yaml"), "--snapstart", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    error = json.loads(run.stdout)
    assert (error["errorType"], error["errorMessage"]) == ("RuntimeError", "model cannot warm")
    assert "Status: error" in run.stderr
