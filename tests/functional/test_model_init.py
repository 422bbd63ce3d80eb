"""A model function's init does only its own work: what Lambda's Init Duration would count.

Each model function's handler module (and the index function's) is imported in a fresh
interpreter with the template's environment (the traffic override parameter included, as
deployed), and the process then reports what init left behind: no boto3 (the override is
read after init, on the first request), no background thread, and the garbage collector on
again with init's objects frozen.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from lambda_functions import ROOT, FunctionSpec

PROBE = """
import gc, json, sys, threading
sys.path.insert(0, sys.argv[1])
import app
if app.settings.model_name:
    app.app.state.dataplane.model(app.settings.model_name)  # loaded and warm
print(json.dumps({
    "aws_sdk": sorted(m for m in ("boto3", "botocore") if m in sys.modules),
    "threads": sorted(t.name for t in threading.enumerate()),
    "gc_enabled": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}))
"""


def model_functions(specs: dict[str, FunctionSpec]) -> list[FunctionSpec]:
    return [s for s in specs.values() if "MODEL_NAME" in s.environment]


def init_facts(spec: FunctionSpec) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDASERVE_"))}
    env.update(spec.environment)
    env["LAMBDASERVE_MODEL_REPOSITORY"] = str(ROOT / "layers" / "models")
    env.update(AWS_REGION="us-east-1", AWS_ENDPOINT_URL_SSM="http://127.0.0.1:9")
    run = subprocess.run(
        [sys.executable, "-c", PROBE, str(spec.code_uri)],
        capture_output=True,
        text=True,
        env=env,
        cwd=spec.code_uri,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    facts: dict[str, object] = json.loads(run.stdout.splitlines()[-1])
    return facts


@pytest.mark.slow
def test_model_functions_init_without_the_aws_sdk_or_threads(
    function_specs: dict[str, FunctionSpec],
) -> None:
    functions = model_functions(function_specs)
    assert len(functions) >= 5
    for spec in functions:
        assert spec.environment.get("LAMBDASERVE_TRAFFIC_PARAMETER"), spec.logical_id
        facts = init_facts(spec)
        assert facts["aws_sdk"] == [], spec.logical_id
        assert facts["threads"] == ["MainThread"], spec.logical_id
        assert facts["gc_enabled"] is True, spec.logical_id
        assert isinstance(facts["frozen"], int) and facts["frozen"] > 10_000, spec.logical_id


@pytest.mark.slow
def test_the_index_function_inits_with_the_collector_paused_too(
    function_specs: dict[str, FunctionSpec],
) -> None:
    facts = init_facts(function_specs["IndexFunction"])
    assert facts["aws_sdk"] == []  # the forwarder's Lambda client is made on first use
    assert facts["gc_enabled"] is True
    assert isinstance(facts["frozen"], int) and facts["frozen"] > 10_000
