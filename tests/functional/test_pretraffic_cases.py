"""functions/pre_traffic/cases.json is current: the events of events/api, the answers of today.

A stale file would fail every canary deploy (or pass a wrong one): regenerate it with
`python scripts/make_pretraffic.py` after `make events` or a model change.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parents[2]
CASES = json.loads((ROOT / "functions" / "pre_traffic" / "cases.json").read_text())


def generator() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_pretraffic", ROOT / "scripts" / "make_pretraffic.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_post_event_of_every_model_is_a_case(repository: ModelRepository) -> None:
    names = {c["name"] for c in CASES}
    for model in repository.names():
        for path in (ROOT / "events" / "api").glob(f"{model}_*.json"):
            event = json.loads(path.read_text())
            if event["requestContext"]["http"]["method"] == "POST":
                assert path.name in names
                [case] = [c for c in CASES if c["name"] == path.name]
                assert case["event"] == event and case["model"] == model


def test_recorded_answers_are_todays(
    repository: ModelRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in ("MODEL_NAME", "LAMBDASERVE_MODEL_REPOSITORY", "LAMBDASERVE_TRAFFIC_PARAMETER"):
        monkeypatch.setenv(var, os.environ.get(var, ""))  # restored after the generator
    fresh = [c for m in repository.names() for c in generator().model_cases(repository, m)]
    assert json.loads(json.dumps(fresh)) == CASES
