"""Write API Gateway HTTP API (payload 2.0) sample events for every route family of every model.

The events feed `sam local invoke -e`, `lambdaserve invoke --event` and the functional tests.
Inputs are real rows of each model's dataset, so predictions are meaningful.
Run: `python scripts/make_events.py` (or `make events`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import datasets

from lambdaserve.local import template
from lambdaserve.local.events import http_event
from lambdaserve.local.routes import RouteTable
from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "events" / "api"
DATASETS = {
    "iris": "load_iris",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
}
HOST = "abc123.execute-api.us-east-1.amazonaws.com"
NOW = 1795608000.0  # fixed, so regenerated events are identical
ROUTES = RouteTable(template.load(ROOT / "template.yaml").routes)


def event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """The event API Gateway would send for this request, routed by template.yaml."""
    match = ROUTES.match(method, path)
    if match is None:
        raise SystemExit(f"template.yaml has no route for {method} {path}")
    headers = [("accept", "application/json"), ("host", HOST), ("user-agent", "curl/8.5.0")]
    headers += [("x-forwarded-port", "443"), ("x-forwarded-proto", "https")]
    raw = b""
    if body is not None:
        raw = json.dumps(body).encode()
        headers += [("content-type", "application/json"), ("content-length", str(len(raw)))]
    return http_event(
        method,
        path,
        "",
        headers,
        raw,
        match,
        source_ip="203.0.113.10",
        host=HOST,
        request_id="c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        now=NOW,
    )


def sample_rows(name: str, count: int) -> list[list[float]]:
    data = getattr(datasets, DATASETS[name])().data
    picks = np.linspace(0, len(data) - 1, count).astype(int)
    return [[float(v) for v in data[i]] for i in picks]


def model_events(repo: ModelRepository, name: str) -> dict[str, dict[str, Any]]:
    version = repo.resolve(name)
    latest = repo.versions(name)[-1]
    manifest = repo.manifest(name, version)
    row = sample_rows(name, 1)[0]
    rows = sample_rows(name, 3)
    named = dict(zip(manifest.feature_names, row, strict=True))

    def own(prefix: str, rest: str, method: str, body: Any = None) -> dict[str, Any]:
        return event(method, f"{prefix}/{name}/{rest}", body)

    v2_input = {"name": "input", "shape": [1, len(row)], "datatype": "FP32", "data": row}
    events = {
        "predict": own("/models", "predict", "POST", {"features": row}),
        "predict_named": own("/models", "predict", "POST", {"features": named}),
        "predict_instances": own("/models", "predict", "POST", {"instances": rows}),
        "predict_version": own("/models", f"versions/{latest}/predict", "POST", {"features": row}),
        "info": event("GET", f"/models/{name}"),
        # `name:predict` cannot be a route key: API Gateway sends it to the catch-all route.
        "tf_predict": event("POST", f"/v1/models/{name}:predict", {"instances": rows}),
        "tf_predict_columns": own(
            "/v1/models", f"versions/{latest}:predict", "POST", {"inputs": rows}
        ),
        "tf_status": event("GET", f"/v1/models/{name}"),
        "tf_metadata": own("/v1/models", "metadata", "GET"),
        "v2_infer": own("/v2/models", "infer", "POST", {"id": "req-1", "inputs": [v2_input]}),
        "v2_infer_version": own(
            "/v2/models",
            f"versions/{latest}/infer",
            "POST",
            {
                "inputs": [{**v2_input, "shape": [3, len(row)], "data": rows}],
                "outputs": [{"name": manifest.outputs[0].name}],
            },
        ),
        "v2_metadata": event("GET", f"/v2/models/{name}"),
        "v2_ready": own("/v2/models", "ready", "GET"),
        "openapi": own("/models", "openapi.json", "GET"),
    }
    for label in repo.labels(name):
        events[f"tf_predict_label_{label}"] = own(
            "/v1/models",
            f"labels/{label}:predict",
            "POST",
            {"signature_name": "serving_default", "instances": rows},
        )
    return events


def index_events() -> dict[str, dict[str, Any]]:
    return {
        "health": event("GET", "/health"),
        "models": event("GET", "/models"),
        "v2_server": event("GET", "/v2"),
        "v2_live": event("GET", "/v2/health/live"),
        "v2_ready": event("GET", "/v2/health/ready"),
        "unknown_model": event("POST", "/models/nope/predict", {"features": [1.0]}),
    }


def main() -> None:
    repo = ModelRepository(ROOT / "layers" / "models")
    OUT.mkdir(parents=True, exist_ok=True)
    written = 0
    for name in repo.names():
        for kind, event in model_events(repo, name).items():
            (OUT / f"{name}_{kind}.json").write_text(json.dumps(event, indent=2) + "\n")
            written += 1
    for kind, event in index_events().items():
        (OUT / f"index_{kind}.json").write_text(json.dumps(event, indent=2) + "\n")
        written += 1
    print(f"wrote {written} events to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
