"""API Gateway HTTP API (payload 2.0) sample events for a model's routes, routed by the template.

The events feed `sam local invoke -e`, `lambdaserve invoke --event` and the functional
tests; `scripts/make_events.py` writes them for every model, `add-model` for its model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lambdaserve.local import template
from lambdaserve.local.events import http_event
from lambdaserve.local.routes import RouteTable
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.samples import generated
from lambdaserve.modelkit.staging import Transaction
from lambdaserve.repository import ModelManifest, ModelRepository

HOST = "abc123.execute-api.us-east-1.amazonaws.com"
NOW = 1795608000.0  # fixed, so regenerated events are identical
KINDS = (
    "predict",
    "predict_named",
    "predict_instances",
    "predict_version",
    "info",
    "tf_predict",
    "tf_predict_columns",
    "tf_status",
    "tf_metadata",
    "v2_infer",
    "v2_infer_version",
    "v2_metadata",
    "v2_ready",
    "openapi",
)
LABEL_KIND = "tf_predict_label_"


class Events:
    """Builds events the way API Gateway would send them for the template's routes."""

    def __init__(self, template_path: Path) -> None:
        self.routes = RouteTable(template.load(template_path).routes)

    def event(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        match = self.routes.match(method, path)
        if match is None:
            raise ModelKitError(f"the template has no route for {method} {path}")
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

    def model(
        self, repo: ModelRepository, name: str, samples: Mapping[str, np.ndarray]
    ) -> dict[str, dict[str, Any]]:
        """Every route family of one model; `samples` holds at least three rows per input."""
        version = repo.resolve(name)
        latest = repo.versions(name)[-1]
        manifest = repo.manifest(name, version)

        def own(prefix: str, rest: str, method: str, body: Any = None) -> dict[str, Any]:
            return self.event(method, f"{prefix}/{name}/{rest}", body)

        def v2_inputs(count: int) -> list[dict[str, Any]]:
            tensors = []
            for spec in manifest.inputs:
                values = np.asarray(samples[spec.name])[:count]
                data = values.reshape(-1) if count == 1 else values  # one row: flat data
                tensors.append(
                    {
                        "name": spec.name,
                        "shape": list(values.shape),
                        "datatype": spec.datatype,
                        "data": data.tolist(),
                    }
                )
            return tensors

        events = {
            "info": self.event("GET", f"/models/{name}"),
            "tf_status": self.event("GET", f"/v1/models/{name}"),
            "tf_metadata": own("/v1/models", "metadata", "GET"),
            "v2_infer": own("/v2/models", "infer", "POST", {"id": "req-1", "inputs": v2_inputs(1)}),
            "v2_infer_version": own(
                "/v2/models",
                f"versions/{latest}/infer",
                "POST",
                {"inputs": v2_inputs(3), "outputs": [{"name": manifest.outputs[0].name}]},
            ),
            "v2_metadata": self.event("GET", f"/v2/models/{name}"),
            "v2_ready": own("/v2/models", "ready", "GET"),
            "openapi": own("/models", "openapi.json", "GET"),
        }
        if _row_model(manifest):
            events.update(self._row_events(repo, name, manifest, latest, samples, own))
        return events

    def _row_events(
        self,
        repo: ModelRepository,
        name: str,
        manifest: ModelManifest,
        latest: str,
        samples: Mapping[str, np.ndarray],
        own: Any,
    ) -> dict[str, dict[str, Any]]:
        """Seed-style and TF Serving bodies: rows of the model's one 2-D input."""
        rows = np.asarray(samples[manifest.inputs[0].name])[:3].tolist()
        row = rows[0]
        events = {
            "predict": own("/models", "predict", "POST", {"features": row}),
            "predict_instances": own("/models", "predict", "POST", {"instances": rows}),
            "predict_version": own(
                "/models", f"versions/{latest}/predict", "POST", {"features": row}
            ),
            # `name:predict` cannot be a route key: API Gateway sends it to the catch-all route.
            "tf_predict": self.event("POST", f"/v1/models/{name}:predict", {"instances": rows}),
            "tf_predict_columns": own(
                "/v1/models", f"versions/{latest}:predict", "POST", {"inputs": rows}
            ),
        }
        if manifest.feature_names:
            named = dict(zip(manifest.feature_names, row, strict=True))
            events["predict_named"] = own("/models", "predict", "POST", {"features": named})
        for label in repo.labels(name):
            events[f"{LABEL_KIND}{label}"] = own(
                "/v1/models",
                f"labels/{label}:predict",
                "POST",
                {"signature_name": "serving_default", "instances": rows},
            )
        return events

    def index(self) -> dict[str, dict[str, Any]]:
        return {
            "health": self.event("GET", "/health"),
            "models": self.event("GET", "/models"),
            "v2_server": self.event("GET", "/v2"),
            "v2_live": self.event("GET", "/v2/health/live"),
            "v2_ready": self.event("GET", "/v2/health/ready"),
            "unknown_model": self.event("POST", "/models/nope/predict", {"features": [1.0]}),
        }


def _row_model(manifest: ModelManifest) -> bool:
    """One 2-D input of numbers, or of texts (rows of strings in every protocol)."""
    return (
        len(manifest.inputs) == 1
        and len(manifest.inputs[0].shape) == 2
        and manifest.inputs[0].datatype != "BOOL"
    )


def write(directory: Path, prefix: str, events: Mapping[str, dict[str, Any]]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, event in events.items():
        path = directory / f"{prefix}_{kind}.json"
        path.write_text(json.dumps(event, indent=2) + "\n")
        written.append(path)
    return written


def model_files(directory: Path, name: str, other_models: list[str]) -> list[Path]:
    """The event files of one model (not those of a model whose name extends it)."""
    longer = [m for m in other_models if m != name and m.startswith(name + "_")]
    found = []
    for path in sorted(directory.glob(f"{name}_*.json")):
        if any(path.stem.startswith(m + "_") for m in longer):
            continue
        kind = path.stem[len(name) + 1 :]
        if kind in KINDS or kind.startswith(LABEL_KIND):
            found.append(path)
    return found


def saved_rows(directory: Path, name: str) -> list[list[float]] | None:
    """The rows an earlier run put in the model's `predict_instances` event, if any."""
    path = directory / f"{name}_predict_instances.json"
    try:
        rows = json.loads(json.loads(path.read_text())["body"])["instances"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rows if isinstance(rows, list) and rows else None


def stored_feeds(directory: Path, manifest: ModelManifest) -> dict[str, np.ndarray]:
    """Rows for a model's events: those its events hold, else rows made from its inputs."""
    rows = saved_rows(directory, manifest.name)
    if rows is not None and len(manifest.inputs) == 1:
        return {manifest.inputs[0].name: np.asarray(rows)}
    return generated(manifest.inputs, rows=3)


def replace_model_events(
    tx: Transaction,
    project: Project,
    repo: ModelRepository,
    name: str,
    feeds: Mapping[str, np.ndarray],
) -> list[Path]:
    """Write the model's events; drop its old ones that no longer exist (e.g. a label's)."""
    built = Events(project.template).model(repo, name, feeds)
    old = model_files(project.events, name, repo.names())
    written = []
    for kind, event in built.items():
        path = project.events / f"{name}_{kind}.json"
        tx.write_file(path, (json.dumps(event, indent=2) + "\n").encode())
        written.append(path)
    for path in old:
        if path not in written:
            tx.remove_file(path)
    return written
