"""`lambdaserve invoke --built`: the `sam build` artifacts, isolated as in Lambda."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "api"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `sam build` per session, into a temporary directory (~10 s, downloads wheels)."""
    sam = Path(sys.executable).parent / "sam"
    if not sam.exists():
        pytest.skip("sam CLI not installed in this environment (make setup installs it)")
    out = tmp_path_factory.mktemp("sam") / "build"
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SAM_CLI_TELEMETRY"] = "0"
    run = subprocess.run(
        [str(sam), "build", "--build-dir", str(out), "--template", "template.yaml"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def invoke(build: Path, function: str, event: str) -> subprocess.CompletedProcess[str]:
    args = ["invoke", function, "--built", "--build-dir", str(build), "-e", str(EVENTS / event)]
    return subprocess.run(
        [sys.executable, "-m", "lambdaserve.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_built_model_function_predicts(build_dir: Path) -> None:
    run = invoke(build_dir, "IrisFunction", "iris_predict.json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["statusCode"] == 200
    assert json.loads(result["body"])["label"] == "setosa"
    assert "Init Duration" in run.stderr


def test_built_index_forwards_colon_paths(build_dir: Path) -> None:
    run = invoke(build_dir, "IndexFunction", "iris_tf_predict.json")
    assert run.returncode == 0, run.stderr
    predictions = json.loads(json.loads(run.stdout)["body"])["predictions"]
    assert [p["label"] for p in predictions] == [0, 1, 2]


def test_a_dependency_missing_from_the_layer_fails_as_in_lambda(
    build_dir: Path, tmp_path: Path
) -> None:
    """Same build without mangum in the runtime layer: the import fails, as it would in AWS,
    although this development environment has mangum installed."""
    broken = tmp_path / "build"
    broken.mkdir()
    shutil.copy(build_dir / "template.yaml", broken / "template.yaml")
    for name in ("IrisFunction", "ModelsLayer"):
        (broken / name).symlink_to(build_dir / name)
    layer = broken / "RuntimeLayer" / "python"
    layer.mkdir(parents=True)
    for entry in (build_dir / "RuntimeLayer" / "python").iterdir():
        if not entry.name.lower().startswith("mangum"):
            (layer / entry.name).symlink_to(entry)
    run = invoke(broken, "IrisFunction", "iris_predict.json")
    assert run.returncode == 1
    error = json.loads(run.stdout)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'mangum'"
