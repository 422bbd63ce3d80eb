"""Init Duration as Lambda reports it: from the local runtime's REPORT lines, per function.

Each model function is invoked cold (a new `lambdaserve invoke` process each time), and so
is a floor function whose init only imports the runtime layer's packages (every top-level
module of every distribution pinned in layers/runtime/requirements.txt) under the same
runtime, layers and memory. A model function's init on top of that floor is lambdaserve
itself, the model load and the warm-up inference: the target keeps it within 1.15x.
Runs alternate between subjects; medians are compared. From the source tree, and from the
`sam build` artifacts (`--built`) unless the run is quick.
"""

from __future__ import annotations

import importlib.metadata
import re
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table, Target

ROOT = fixtures.ROOT
REQUIREMENTS = ROOT / "layers" / "runtime" / "requirements.txt"
REPORT = re.compile(r"^REPORT RequestId: .*?Init Duration: ([\d.]+) ms", re.MULTILINE)
LIMIT = 1.15
FLOOR = "FloorFunction"
TRACING_ONLY = {"aws_xray_sdk", "wrapt"}  # the layer's, imported with DetailedTracing only


def layer_modules(requirements: Path = REQUIREMENTS) -> list[str]:
    """Top-level import names of every distribution the runtime layer pins."""
    pinned = {
        re.split(r"[=<>\[ ]", line.strip(), maxsplit=1)[0].lower().replace("_", "-")
        for line in requirements.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    names = set()
    for module, dists in importlib.metadata.packages_distributions().items():
        # Not importable (wrapt ships "wrapt-stubs"), or imported only when detailed
        # tracing is on: a floor that imported them would flatter our init.
        if module.startswith("_") or not module.isidentifier() or module in TRACING_ONLY:
            continue
        if any(d.lower().replace("_", "-") in pinned for d in dists):
            names.add(module)
    return sorted(names)


def floor_code(modules: list[str]) -> str:
    """The floor's handler module: the imports, with the garbage collector handled as the
    model functions' init handles it (paused, then init's objects frozen), so the floor is
    the cheapest import of those packages and the ratio counts only lambdaserve's own work.
    """
    lines = ['"""Init floor: the runtime layer\'s packages imported, nothing else."""', ""]
    lines += ["import gc", "", "gc.disable()", ""]
    lines += [f"import {m}  # noqa: F401" for m in modules]
    lines += ["", "gc.freeze()", "gc.enable()", ""]
    lines += ["", "def handler(event, context):", "    return {'statusCode': 200}", ""]
    return "\n".join(lines)


def floor_template(code_uri: Path, layer_uri: Path, memory: int) -> str:
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  RuntimeLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: {layer_uri}
      CompatibleRuntimes: [python3.12]
    Metadata:
      BuildMethod: makefile
  {FLOOR}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: {code_uri}
      Handler: app.handler
      Runtime: python3.12
      MemorySize: {memory}
      Timeout: 60
      Layers: [!Ref RuntimeLayer]
"""


@dataclass
class Subject:
    key: str
    label: str
    function: str
    args: list[str]
    event: Path
    inits_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.inits_ms)


def init_duration(stderr: str) -> float:
    """The Init Duration of the REPORT line a cold invoke printed."""
    found = REPORT.findall(stderr)
    if not found:
        raise RuntimeError(f"no REPORT line with Init Duration in:\n{stderr[-2000:]}")
    return float(found[-1])


def invoke_cold(subject: Subject) -> float:
    command = [
        str(Path(sys.executable).with_name("lambdaserve")),
        "invoke",
        subject.function,
        "-e",
        str(subject.event),
        *subject.args,
    ]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{subject.key}: `{' '.join(command)}` failed:\n{proc.stderr[-2000:]}")
    return init_duration(proc.stderr)


def model_functions(template_path: Path = ROOT / "template.yaml") -> dict[str, int]:
    """Each model function's logical id and memory size, from the template."""
    from bench.cost import load_template, memory_mb

    template = load_template(template_path)
    return {
        name: memory_mb(template, name)
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
        and "MODEL_NAME" in resource["Properties"].get("Environment", {}).get("Variables", {})
    }


def subjects(tmp: Path, build: Path | None) -> list[Subject]:
    functions = model_functions()
    memory = functions[fixtures.FUNCTION]
    event = tmp / "event.json"
    event.write_text(_event_json())
    code = tmp / "floor"
    code.mkdir()
    (code / "app.py").write_text(floor_code(layer_modules()))
    floor_tpl = tmp / "floor.yaml"
    floor_tpl.write_text(floor_template(code, ROOT / "layers" / "runtime", memory))
    found = [
        Subject("floor", "floor: import the layer's packages", FLOOR, ["-t", str(floor_tpl)], event)
    ]
    found += [Subject(f, f, f, [], event) for f in functions]
    if build is not None:
        built = tmp / "floor-build"
        built.mkdir()
        (built / FLOOR).mkdir()
        (built / FLOOR / "app.py").write_text(floor_code(layer_modules()))
        template = floor_template(Path(FLOOR), build / "RuntimeLayer", memory)
        (built / "template.yaml").write_text(template)
        found.append(
            Subject(
                "floor_built",
                "floor, built layer",
                FLOOR,
                ["--built", "--build-dir", str(built)],
                event,
            )
        )
        found += [
            Subject(f"{f}_built", f"{f}, built", f, ["--built", "--build-dir", str(build)], event)
            for f in functions
        ]
    return found


def _event_json() -> str:
    import orjson

    return orjson.dumps(http_event("GET", f"/models/{fixtures.MODEL}")).decode()


def run(budget: Budget) -> Section:
    build = None if budget.quick else fixtures.sam_build()
    with tempfile.TemporaryDirectory() as tmp:
        found = subjects(Path(tmp), build)
        for _ in range(max(1, budget.cold_runs)):
            for subject in found:
                subject.inits_ms.append(invoke_cold(subject))
    return section(found)


def section(found: list[Subject]) -> Section:
    by_key = {s.key: s for s in found}
    rows: list[list[Any]] = []
    ratios: dict[str, float] = {}
    for s in found:
        if s.function == FLOOR:
            rows.append([s.label, len(s.inits_ms), s.median_ms, min(s.inits_ms), 1.0])
            continue
        floor = by_key["floor_built" if s.key.endswith("_built") else "floor"]
        ratios[s.key] = s.median_ms / floor.median_ms
        rows.append([s.label, len(s.inits_ms), s.median_ms, min(s.inits_ms), ratios[s.key]])
    worst = max(ratios, key=ratios.__getitem__)
    worst_floor = by_key["floor_built" if worst.endswith("_built") else "floor"]
    return Section(
        "init",
        "7. Init Duration (local runtime REPORT lines, cold invokes)",
        targets=[
            Target(
                "init_vs_import_floor",
                f"Init Duration, slowest model function ({by_key[worst].label}) vs the "
                "bare import of the runtime layer's packages",
                by_key[worst].median_ms,
                worst_floor.label,
                worst_floor.median_ms,
                "ms",
                ratios[worst],
                "<=",
                LIMIT,
                "init/floor",
            )
        ],
        tables=[
            Table(
                "Init Duration per function (ms), median of cold invokes",
                ["function", "runs", "median", "min", "/ floor"],
                rows,
            )
        ],
        notes=[
            "Each run is `lambdaserve invoke <function>` in a new process: the runtime starts "
            "the function's interpreter, which imports the handler module (Lambda's init: for "
            "a model function, lambdaserve, the model load and a warm-up inference).",
            f"The floor imports {len(layer_modules())} modules, every top-level module of the "
            "runtime layer's pinned distributions, in the same runtime with the same layers.",
        ],
        data={s.key: {"inits_ms": [round(v, 2) for v in s.inits_ms]} for s in found},
    )
