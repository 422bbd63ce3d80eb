"""`lambdaserve invoke` as a user runs it: a subprocess, the real template, the real handlers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the CLI in subprocesses

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "api"


def lambdaserve(
    *args: str, stdin: str | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lambdaserve.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=180,
    )


def response(run: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert isinstance(data, dict)
    return data


def test_invoke_prints_the_response_on_stdout_and_logs_on_stderr() -> None:
    run = lambdaserve("invoke", "IrisFunction", "--event", str(EVENTS / "iris_predict.json"))
    result = response(run)
    assert result["statusCode"] == 200
    body = json.loads(str(result["body"]))
    assert body["model"] == "iris" and body["label"] == "setosa"
    assert "START RequestId: " in run.stderr
    report = next(line for line in run.stderr.splitlines() if line.startswith("REPORT"))
    assert "Init Duration: " in report and "Duration: " in report
    assert "Memory Size: 1024 MB" in report and "Max Memory Used: " in report


def test_event_from_stdin() -> None:
    event = (EVENTS / "index_health.json").read_text()
    result = response(lambdaserve("invoke", "IndexFunction", "-e", "-", stdin=event))
    assert json.loads(str(result["body"]))["status"] == "healthy"


def test_index_forwards_tf_serving_colon_paths_to_the_model_function() -> None:
    run = lambdaserve("invoke", "IndexFunction", "-e", str(EVENTS / "iris_tf_predict.json"))
    result = response(run)
    assert result["statusCode"] == 200
    predictions = json.loads(str(result["body"]))["predictions"]
    assert [p["label"] for p in predictions] == [0, 1, 2]
    # The forwarded invocation ran in IrisFunction's own environment.
    assert run.stderr.count("START RequestId") == 2
    assert "Memory Size: 1024 MB" in run.stderr and "Memory Size: 512 MB" in run.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["invoke", "Nope"], None, "unknown function 'Nope' in template.yaml; functions: "),
        (["invoke", "IrisFunction", "-e", "missing.json"], None, "event file not found"),
        (["invoke", "IrisFunction", "-e", "-"], "{oops", "event file stdin is not JSON: line 1"),
        (["invoke", "IrisFunction", "-t", "nothing.yaml"], None, "template not found"),
        (["invoke", "IrisFunction", "--built", "--build-dir", "nowhere"], None, "run `sam build`"),
    ],
)
def test_usage_errors_are_one_clear_line(args: list[str], stdin: str | None, message: str) -> None:
    run = lambdaserve(*args, stdin=stdin)
    assert run.returncode == 2
    assert run.stdout == ""
    assert message in run.stderr
    assert "Traceback" not in run.stderr


def test_template_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("Resources:\n  A: [1, 2\n  B: 3\n")
    run = lambdaserve("invoke", "A", cwd=tmp_path)
    assert run.returncode == 2
    assert "template.yaml does not parse: line " in run.stderr
    assert "Traceback" not in run.stderr


def test_handler_error_prints_lambdas_error_json(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(
        "def handler(event, context):\n    raise RuntimeError('model exploded')\n"
    )
    (tmp_path / "template.yaml").write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Runtime: python3.12\n      CodeUri: src/\n      Handler: app.handler\n"
    )
    run = lambdaserve("invoke", "Fn", cwd=tmp_path)
    assert run.returncode == 1
    error = json.loads(run.stdout)
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "model exploded"
    assert error["requestId"]
    assert any("app.py" in frame and "in handler" in frame for frame in error["stackTrace"])
    assert "[ERROR] RuntimeError: model exploded" in run.stderr  # logged, as Lambda does
    assert "no --event given" in run.stderr
