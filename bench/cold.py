"""Cold start: a fresh process to its first response, against the seed snippet's.

Each run spawns a new interpreter that imports the function's entry module (imports,
model load, warm-up inference: Lambda's init phase) and answers one API Gateway event.
Runs of all subjects alternate; medians are reported. One extra `-X importtime` run per
subject attributes import time to top-level packages.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table, Target

PROBE = Path(__file__).with_name("cold_probe.py")
HERE = Path(__file__).parent


@dataclass
class Subject:
    key: str
    label: str
    python: list[str]
    code_dir: Path
    module: str
    event: Path
    env: dict[str, str]
    runs: list[dict[str, float]] = field(default_factory=list)
    imports: list[tuple[str, float]] = field(default_factory=list)

    def command(self, *flags: str) -> list[str]:
        return [*self.python, *flags, str(PROBE), str(self.code_dir), self.module, str(self.event)]

    def environ(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if not k.startswith(("LAMBDASERVE_", "MODEL_"))}
        keep.pop("PYTHONPATH", None)
        return {**keep, **self.env}


def run_once(subject: Subject) -> dict[str, float]:
    spawned = time.monotonic()
    proc = subprocess.run(
        subject.command(), env=subject.environ(), capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{subject.key} probe failed: {proc.stderr[-2000:]}")
    t = _probe_timings(proc.stdout)
    if t["status"] != 200:
        raise RuntimeError(f"{subject.key} first response was {t['status']}")
    return {
        "total_ms": (t["response"] - spawned) * 1e3,
        "startup_ms": (t["started"] - spawned) * 1e3,
        "init_ms": (t["init_end"] - t["init_start"]) * 1e3,
        "first_invoke_ms": (t["response"] - t["invoke_start"]) * 1e3,
    }


def _probe_timings(stdout: str) -> dict[str, Any]:
    """The probe's own line: the function's background threads (e.g. the traffic
    override's first read) may log after it."""
    for line in reversed(stdout.strip().splitlines()):
        try:
            found = json.loads(line)
        except ValueError:
            continue
        if isinstance(found, dict) and "response" in found and "init_start" in found:
            return found
    raise RuntimeError(f"the probe printed no timings: {stdout[-2000:]}")


def import_breakdown(subject: Subject, top: int = 8) -> list[tuple[str, float]]:
    """Self import time summed per top-level package (ms), largest first."""
    proc = subprocess.run(
        subject.command("-X", "importtime"),
        env=subject.environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    totals: dict[str, float] = defaultdict(float)
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, _cumulative, name = line.split(":", 1)[1].split("|")
        totals[name.strip().split(".")[0]] += float(self_us) / 1e3
    return sorted(totals.items(), key=lambda kv: -kv[1])[:top]


def subjects(tmp: Path, build: Path | None) -> list[Subject]:
    venv = [sys.executable]
    ours_event = tmp / "ours.json"
    ours_event.write_text(json.dumps(http_event("POST", _OURS_PATH, _features())))
    seed_event = tmp / "seed.json"
    seed_event.write_text(json.dumps(http_event("POST", "/predict", _features())))
    found = [
        Subject(
            "ours",
            "lambdaserve (source tree, .pyc cached)",
            venv,
            fixtures.ROOT / "functions" / "model_api",
            "app",
            ours_event,
            fixtures.function_env(),
        ),
        Subject(
            "seed",
            "seed FastAPI snippet + scikit-learn pickle (.pyc cached)",
            venv,
            HERE,
            "seed_api",
            seed_event,
            {"SEED_MODEL_PATH": str(fixtures.train_seed_model(tmp))},
        ),
    ]
    if build is not None:
        # As Lambda runs it: the built layer and function only (no site-packages),
        # read-only (no .pyc written), the models from the built model layer.
        base = [
            str(
                Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
            ),
            "-S",
        ]
        env = {
            **fixtures.function_env(models=build / "ModelsLayer" / "models"),
            "PYTHONPATH": f"{build / fixtures.FUNCTION}:{build / 'RuntimeLayer' / 'python'}",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        found.append(
            Subject(
                "layer",
                "lambdaserve as built by `sam build` (layer .pyc)",
                base,
                build / fixtures.FUNCTION,
                "app",
                ours_event,
                env,
            )
        )
        found.append(
            Subject(
                "layer_nopyc",
                "lambdaserve as built, if the layer shipped no .pyc",
                base,
                build / fixtures.FUNCTION,
                "app",
                ours_event,
                {**env, "PYTHONPYCACHEPREFIX": str(tmp / "no-pyc")},
            )
        )
    return found


_OURS_PATH = f"/models/{fixtures.MODEL}/versions/{fixtures.VERSION}/predict"


def _features() -> dict[str, Any]:
    return {"features": fixtures.sample_rows(1, seed=7)[0].tolist()}


def run(budget: Budget) -> Section:
    build = None if budget.quick else fixtures.sam_build()
    with tempfile.TemporaryDirectory() as tmp:
        found = subjects(Path(tmp), build)
        for subject in found:
            run_once(subject)  # discarded: warms the page cache (and source-tree .pyc)
        for _ in range(budget.cold_runs):
            for subject in found:
                subject.runs.append(run_once(subject))
        for subject in found:
            subject.imports = import_breakdown(subject)
    return section(found)


def _median(subject: Subject, key: str) -> float:
    return statistics.median(r[key] for r in subject.runs)


def section(found: list[Subject]) -> Section:
    by_key = {s.key: s for s in found}
    ours, seed = _median(by_key["ours"], "total_ms"), _median(by_key["seed"], "total_ms")
    targets = [
        Target(
            "cold_start_vs_seed",
            "Cold start, fresh process to first response, vs seed snippet",
            ours,
            "seed",
            seed,
            "ms",
            ours / seed,
            "<=",
            0.35,
            "ours/seed",
        )
    ]
    rows = [
        [
            s.label,
            len(s.runs),
            _median(s, "total_ms"),
            _median(s, "startup_ms"),
            _median(s, "init_ms"),
            _median(s, "first_invoke_ms"),
            _median(s, "total_ms") / seed,
        ]
        for s in found
    ]
    imports = [[s.label, ", ".join(f"{name} {ms:.0f}" for name, ms in s.imports)] for s in found]
    return Section(
        "cold",
        "2. Cold start (fresh process to first response)",
        targets=targets,
        tables=[
            Table(
                "Medians (ms): total = spawn to response; init = imports + model load + warm-up",
                ["subject", "runs", "total", "interpreter", "init", "first invoke", "total / seed"],
                rows,
            ),
            Table(
                "Where import time goes: self time per top-level package (ms, `-X importtime`)",
                ["subject", "largest"],
                imports,
            ),
        ],
        notes=[
            "Each run is a new interpreter: `python cold_probe.py` imports the entry module "
            "(for us functions/model_api/app.py, which loads and warms both breast_cancer "
            "versions) and answers one API Gateway v2 event.",
            "Lambda's /opt and /var/task are read-only: without .pyc in the layer every "
            "cold start compiles the sources again; the layer rows show that cost.",
        ],
        data={
            s.key: {"label": s.label, "runs": s.runs, "imports_ms": dict(s.imports)} for s in found
        },
    )
