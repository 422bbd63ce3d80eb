"""model.json for an imported model, in the schema repository.py reads and the samples use."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from lambdaserve.repository import TensorSpec


def build(
    *,
    name: str,
    version: str,
    task: str,
    description: str,
    inputs: tuple[TensorSpec, ...],
    outputs: tuple[TensorSpec, ...],
    feature_names: tuple[str, ...],
    class_labels: tuple[str, ...] | None,
    metrics: dict[str, float],
    source: dict[str, Any],
    onnx_bytes: bytes,
) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "task": task,
        "description": description,
        "inputs": [t.to_json() for t in inputs],
        "outputs": [t.to_json() for t in outputs],
        "feature_names": list(feature_names),
        "class_labels": list(class_labels) if class_labels else None,
        "metrics": metrics,
        "source": source,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sha256": hashlib.sha256(onnx_bytes).hexdigest(),
    }
