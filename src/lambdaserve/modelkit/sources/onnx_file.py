"""An ONNX file as it is: its graph is its own reference; the task is read from its outputs."""

from __future__ import annotations

import json
from pathlib import Path

import onnx

from lambdaserve.modelkit.graph import parse
from lambdaserve.modelkit.sources.base import Source

MAGIC_SUFFIXES = (".onnx", ".ort")


def _metadata_list(model: onnx.ModelProto, key: str) -> tuple[str, ...]:
    """A JSON list kept in the graph's metadata_props (how exporters can carry names)."""
    for prop in model.metadata_props:
        if prop.key == key:
            try:
                values = json.loads(prop.value)
            except ValueError:
                return ()
            return tuple(str(v) for v in values) if isinstance(values, list) else ()
    return ()


def load(path: Path) -> Source:
    model = parse(path.read_bytes(), str(path))
    outputs = {o.name for o in model.graph.output}
    if {"label", "probabilities"} <= outputs:
        task = "classification"
    elif len(outputs) == 1:
        task = "regression"
    else:
        task = "unknown"
    producer = " ".join(p for p in (model.producer_name, model.producer_version) if p)
    labels = _metadata_list(model, "class_labels") or None
    return Source(
        model=model,
        task=task,
        feature_names=_metadata_list(model, "feature_names"),
        class_labels=labels,
        info={"framework": producer or "onnx", "file": path.name},
        description=model.doc_string,
    )
