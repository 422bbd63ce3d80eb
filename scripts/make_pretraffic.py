"""Write functions/pre_traffic/cases.json: each model's POST sample events with right answers.

The PreTraffic hook replays these against a newly published function version and fails the
deployment on any other answer. For every POST event in events/api of a model, the real
model handler answers it once per model version (the version forced by a temporary
traffic.json sending it 100%), so an event the traffic policy may route to any version
has the answer of each. Run after `make events` and after adding or retraining a version:
`python scripts/make_pretraffic.py` (or `make pretraffic`); tests fail while it is stale.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "events" / "api"
OUT = ROOT / "functions" / "pre_traffic" / "cases.json"
MODEL_APP = ROOT / "functions" / "model_api" / "app.py"


def post_events(model: str) -> dict[str, dict[str, Any]]:
    found = {}
    for path in sorted(EVENTS.glob(f"{model}_*.json")):
        event = json.loads(path.read_text())
        if event["requestContext"]["http"]["method"] == "POST":
            found[path.name] = event
    return found


def handler_for(repository: Path, model: str) -> Any:
    os.environ.update({"MODEL_NAME": model, "LAMBDASERVE_MODEL_REPOSITORY": str(repository)})
    os.environ.pop("LAMBDASERVE_TRAFFIC_PARAMETER", None)
    spec = importlib.util.spec_from_file_location(f"model_app_{model}", MODEL_APP)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


def answering_version(answer: dict[str, Any], forced: str) -> str:
    headers = {k.lower(): v for k, v in (answer.get("headers") or {}).items()}
    return str(headers.get("x-model-version", forced))


def model_cases(source: ModelRepository, model: str) -> list[dict[str, Any]]:
    events = post_events(model)
    cases: dict[str, dict[str, Any]] = {}
    for version in source.versions(model):
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            shutil.copytree(source.root / model, root / model)
            (root / model / "traffic.json").write_text(json.dumps({"split": {version: 100}}))
            handler = handler_for(root, model)
            for name, event in events.items():
                answer = handler(event, None)
                case = cases.setdefault(
                    name,
                    {"name": name, "model": model, "event": event, "status": 0, "bodies": {}},
                )
                status = int(answer["statusCode"])
                if case["status"] and case["status"] != status:
                    raise SystemExit(f"{name}: status depends on the version ({status})")
                case["status"] = status
                body = json.loads(answer["body"])
                answered = answering_version(answer, version)
                if case["bodies"].setdefault(answered, body) != body:
                    raise SystemExit(f"{name}: version {answered} answers differently twice")
    return list(cases.values())


def main() -> None:
    source = ModelRepository(ROOT / "layers" / "models")
    cases = [case for model in source.names() for case in model_cases(source, model)]
    OUT.write_text(json.dumps(cases, indent=1, sort_keys=True) + "\n")
    print(f"wrote {len(cases)} pre-traffic cases to {OUT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
