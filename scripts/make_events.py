"""Write API Gateway HTTP API (payload 2.0) sample events for every route family of every model.

The events feed `sam local invoke -e`, `lambdaserve invoke --event` and the functional tests.
Inputs are real rows of each model's dataset, so predictions are meaningful.
Run: `python scripts/make_events.py` (or `make events`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn import datasets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from lambdaserve.repository import ModelRepository  # noqa: E402

OUT = ROOT / "events" / "api"
DATASETS = {
    "iris": "load_iris",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
}


def http_event(
    method: str,
    path: str,
    route_key: str,
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
    query: str = "",
) -> dict[str, Any]:
    headers = {
        "accept": "application/json",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "user-agent": "curl/8.5.0",
        "x-forwarded-for": "203.0.113.10",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    text = None
    if body is not None:
        text = json.dumps(body)
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(text.encode()))
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.10",
                "userAgent": "curl/8.5.0",
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": route_key,
            "stage": "$default",
            "time": "25/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795608000000,
        },
        "isBase64Encoded": False,
    }
    if path_parameters:
        event["pathParameters"] = path_parameters
    if text is not None:
        event["body"] = text
    return event


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
        """An event for a route owned by the model's function (`<prefix>/{proxy+}`)."""
        path = f"{prefix}/{name}/{rest}"
        route = f"ANY {prefix}/{name}/{{proxy+}}"
        return http_event(method, path, route, body, {"proxy": rest})

    v2_input = {"name": "input", "shape": [1, len(row)], "datatype": "FP32", "data": row}
    events = {
        "predict": own("/models", "predict", "POST", {"features": row}),
        "predict_named": own("/models", "predict", "POST", {"features": named}),
        "predict_instances": own("/models", "predict", "POST", {"instances": rows}),
        "predict_version": own("/models", f"versions/{latest}/predict", "POST", {"features": row}),
        "info": http_event("GET", f"/models/{name}", f"GET /models/{name}"),
        # `name:predict` cannot be a route key: API Gateway sends it to the catch-all route.
        "tf_predict": http_event(
            "POST",
            f"/v1/models/{name}:predict",
            "ANY /{proxy+}",
            {"instances": rows},
            {"proxy": f"v1/models/{name}:predict"},
        ),
        "tf_predict_columns": own(
            "/v1/models", f"versions/{latest}:predict", "POST", {"inputs": rows}
        ),
        "tf_status": http_event("GET", f"/v1/models/{name}", f"GET /v1/models/{name}"),
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
        "v2_metadata": http_event("GET", f"/v2/models/{name}", f"GET /v2/models/{name}"),
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
        "health": http_event("GET", "/health", "GET /health"),
        "models": http_event("GET", "/models", "GET /models"),
        "v2_server": http_event("GET", "/v2", "GET /v2"),
        "v2_live": http_event("GET", "/v2/health/live", "GET /v2/health/live"),
        "v2_ready": http_event("GET", "/v2/health/ready", "GET /v2/health/ready"),
        "unknown_model": http_event(
            "POST",
            "/models/nope/predict",
            "ANY /{proxy+}",
            {"features": [1.0]},
            {"proxy": "models/nope/predict"},
        ),
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
