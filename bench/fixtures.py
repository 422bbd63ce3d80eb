"""What every section shares: the benchmark model, its data, the seed pickle, our handler."""

from __future__ import annotations

import importlib.util
import os
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from lambdaserve.local import template

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "layers" / "models"
MODEL = "breast_cancer"
VERSION = "2"  # the random forest; the `stable` label points at version 1
FUNCTION = "BreastCancerFunction"

sys.path.insert(0, str(ROOT / "scripts"))


@cache
def dataset() -> np.ndarray:
    """The breast_cancer feature rows (569 x 30, float64), as a client would send them."""
    from sklearn.datasets import load_breast_cancer

    return np.asarray(load_breast_cancer().data, dtype=np.float64)


def sample_rows(n: int, seed: int = 0) -> np.ndarray:
    """n real rows drawn with replacement, deterministic per seed."""
    data = dataset()
    return data[np.random.default_rng(seed).integers(0, len(data), n)]


def unique_rows(n: int, seed: int = 0) -> np.ndarray:
    """n real rows, each made distinct (feature 0 moves by 0.001 per row, clear in float32).

    The prediction cache is on by default: latency figures that claim to measure the model
    path must not be answered from it, so every call sends an input never seen before.
    """
    base = sample_rows(64, seed)
    rows = base[np.arange(n) % len(base)].copy()
    rows[:, 0] += np.arange(n) * 1e-3
    return rows


def train_seed_model(directory: Path) -> Path:
    """The seed's model.pkl: breast_cancer version 2's recipe, trained as shipped, joblib-dumped."""
    import joblib
    import train_models

    recipe = next(r for r in train_models.RECIPES if (r.name, r.version) == (MODEL, VERSION))
    path = directory / "model.pkl"
    joblib.dump(train_models.train(recipe).estimator, path)
    return path


def function_env(logical_id: str = FUNCTION, models: Path = MODELS) -> dict[str, str]:
    """The function's environment from template.yaml (Globals merged), models from `models`."""
    env = dict(template.load(ROOT / "template.yaml").function(logical_id).environment)
    env["LAMBDASERVE_MODEL_REPOSITORY"] = str(models)
    return env


def load_module(path: Path, name: str, env: dict[str, str] | None = None) -> ModuleType:
    """Execute a Lambda entry module in-process under a unique name, with its environment.

    The environment applies while the module initialises (where handlers read it), then
    the process's own is restored, so loading a handler leaks nothing into its caller.
    """
    saved = dict(os.environ)
    os.environ.update(env or {})
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return module


def model_handler(name: str = "bench_model_api", **env: str) -> Any:
    """Our breast_cancer function's real handler, exactly as Lambda imports it.

    `env` overrides the template's environment (e.g. LAMBDASERVE_CACHE_ENTRIES="0").
    """
    path = ROOT / "functions" / "model_api" / "app.py"
    return load_module(path, name, {**function_env(), **env})


def check_ok(response: dict[str, Any]) -> dict[str, Any]:
    if response.get("statusCode") != 200:
        raise RuntimeError(f"handler answered {response.get('statusCode')}: {response.get('body')}")
    return response


@cache
def sam_build() -> Path:
    """`sam build` into bench/out/sam-build (not .aws-sam: others build there), once per run."""
    import shutil
    import subprocess

    out = ROOT / "bench" / "out" / "sam-build"
    shutil.rmtree(out, ignore_errors=True)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "SAM_CLI_TELEMETRY": "0",
        "LAMBDA_ARCH": "x86_64",
    }
    proc = subprocess.run(
        [
            str(bin_dir / "sam"),
            "build",
            "--build-dir",
            str(out),
            "--cache-dir",
            str(ROOT / "bench" / "out" / "sam-cache"),
            "--parameter-overrides",
            "Architecture=x86_64",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"sam build failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return out
