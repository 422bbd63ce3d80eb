"""The model repository: `<root>/<name>/<version>/{model.onnx,model.json}` plus labels.

Knows names, versions, labels and manifests; never loads a model. Names are checked
against a strict pattern before they touch the filesystem, so a path segment from a
URL can never escape the repository.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from lambdaserve.errors import ModelLoadError, ModelNotFound
from lambdaserve.model_store import S3_STORE, S3ModelStore
from lambdaserve.traffic.policy import TrafficPolicy, TrafficPolicyError, parse_policy

TRAFFIC_FILE = "traffic.json"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
VERSION_PATTERN = re.compile(r"[0-9]{1,18}")
DEFAULT_LABEL = "stable"


@dataclass(frozen=True)
class TensorSpec:
    name: str
    datatype: str  # Open Inference Protocol datatype name, e.g. "FP32"
    shape: tuple[int, ...]  # -1 for a dynamic dimension

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TensorSpec:
        return cls(str(raw["name"]), str(raw["datatype"]), tuple(int(d) for d in raw["shape"]))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "datatype": self.datatype, "shape": list(self.shape)}


@dataclass(frozen=True)
class ModelManifest:
    """What model.json says about one model version."""

    name: str
    version: str
    directory: Path
    task: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    feature_names: tuple[str, ...] = ()
    class_labels: tuple[str, ...] | None = None
    description: str = ""
    metrics: dict[str, float] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    created: str | None = None
    # Where model.onnx is kept: "layer" (beside model.json) or "s3" (model_store.py).
    store: str = "layer"
    sha256: str = ""
    # An S3-stored version's file in the local model cache (set by the repository).
    fetched_path: Path | None = None

    @property
    def onnx_path(self) -> Path:
        return self.fetched_path or self.directory / "model.onnx"

    @property
    def in_s3(self) -> bool:
        return self.store == S3_STORE

    @property
    def is_classifier(self) -> bool:
        return self.task == "classification"

    @cached_property
    def feature_index(self) -> dict[str, int]:
        return {n: i for i, n in enumerate(self.feature_names)}

    @classmethod
    def load(cls, directory: Path, name: str, version: str) -> ModelManifest:
        path = directory / "model.json"
        try:
            raw = json.loads(path.read_text())
            labels = raw.get("class_labels")
            return cls(
                name=name,
                version=version,
                directory=directory,
                task=str(raw.get("task", "unknown")),
                inputs=tuple(TensorSpec.from_json(t) for t in raw["inputs"]),
                outputs=tuple(TensorSpec.from_json(t) for t in raw["outputs"]),
                feature_names=tuple(str(f) for f in raw.get("feature_names") or ()),
                class_labels=tuple(str(c) for c in labels) if labels else None,
                description=str(raw.get("description", "")),
                metrics=dict(raw.get("metrics") or {}),
                source=dict(raw.get("source") or {}),
                created=raw.get("created"),
                store=str(raw.get("store") or "layer"),
                sha256=str(raw.get("sha256") or ""),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            # AttributeError: model.json holds JSON that is not an object (a list, null, ...).
            raise ModelLoadError(f"invalid manifest for model {name!r} version {version}") from exc

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "task": self.task,
            "description": self.description,
            "inputs": [t.to_json() for t in self.inputs],
            "outputs": [t.to_json() for t in self.outputs],
            "feature_names": list(self.feature_names),
            "class_labels": list(self.class_labels) if self.class_labels else None,
            "metrics": self.metrics,
            "source": self.source,
            "created": self.created,
            **({"store": self.store} if self.in_s3 else {}),
        }


class ModelRepository:
    """Read-only view of the repository; it is a Lambda layer, so lookups are cached."""

    def __init__(self, root: Path, store: S3ModelStore | None = None) -> None:
        self.root = root
        self.store = store  # fetches the versions whose model.json says "store": "s3"
        self._manifests: dict[tuple[str, str], ModelManifest] = {}
        self._versions_cache: dict[str, list[str]] = {}
        self._labels_cache: dict[str, dict[str, str]] = {}
        self._traffic_cache: dict[str, TrafficPolicy | None] = {}

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and NAME_PATTERN.fullmatch(p.name) and self._versions(p)
        )

    def _check_name(self, name: str) -> Path:
        directory = self.root / name
        if not NAME_PATTERN.fullmatch(name) or not directory.is_dir():
            raise ModelNotFound(f"model {name!r} not found")
        return directory

    @staticmethod
    def _versions(directory: Path) -> list[str]:
        found = [
            p.name
            for p in directory.iterdir()
            if p.is_dir() and VERSION_PATTERN.fullmatch(p.name) and (p / "model.json").is_file()
        ]
        return sorted(found, key=int)

    def versions(self, name: str) -> list[str]:
        cached = self._versions_cache.get(name)
        if cached is not None:
            return list(cached)
        versions = self._versions(self._check_name(name))
        if not versions:
            raise ModelNotFound(f"model {name!r} not found")
        self._versions_cache[name] = versions
        return list(versions)

    def labels(self, name: str) -> dict[str, str]:
        cached = self._labels_cache.get(name)
        if cached is None:
            cached = self._labels_cache[name] = self._read_labels(name)
        return dict(cached)

    def _read_labels(self, name: str) -> dict[str, str]:
        path = self._check_name(name) / "labels.json"
        if not path.is_file():
            return {}
        try:
            raw = json.loads(path.read_text())
            labels = {str(k): str(v) for k, v in raw.items()}
        except (OSError, ValueError, AttributeError) as exc:
            raise ModelLoadError(f"invalid labels.json for model {name!r}") from exc
        # A label naming a missing version is a broken repository (our fault, 500), not a
        # caller's unknown version; /health reports it.
        versions = self.versions(name)
        dangling = sorted(f"{k} -> {v}" for k, v in labels.items() if v not in versions)
        if dangling:
            raise ModelLoadError(
                f"labels.json of model {name!r} points at missing versions: {', '.join(dangling)}"
            )
        return labels

    def traffic(self, name: str) -> TrafficPolicy | None:
        """The model's traffic.json, parsed and resolved; None when it has none.

        A malformed file, or one naming a missing version or label, raises TrafficPolicyError
        (a ModelLoadError: /health reports it), never a silent 100% to one version.
        """
        if name in self._traffic_cache:
            return self._traffic_cache[name]
        path = self._check_name(name) / TRAFFIC_FILE
        if not path.is_file():
            policy = None
        else:
            try:
                raw = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise TrafficPolicyError(f"{TRAFFIC_FILE} of model {name!r} is not JSON") from exc
            policy = parse_policy(
                name, raw, self.versions(name), self.labels(name), self.resolve(name)
            )
        self._traffic_cache[name] = policy
        return policy

    def resolve(self, name: str, version: str | None = None, label: str | None = None) -> str:
        """The concrete version for a request: explicit version, else label, else default."""
        versions = self._versions_cache.get(name) or self.versions(name)
        if version is not None:
            if version not in versions:
                raise ModelNotFound(f"model {name!r} has no version {version!r}")
            return version
        labels = self._labels_cache.get(name)
        if labels is None:
            labels = self.labels(name)
        if label is not None:
            if label not in labels:
                raise ModelNotFound(f"model {name!r} has no version label {label!r}")
            return self.resolve(name, labels[label])
        default = labels.get(DEFAULT_LABEL)
        return default if default in versions else versions[-1]

    def manifest(self, name: str, version: str) -> ModelManifest:
        key = (name, version)
        if key not in self._manifests:
            if version not in self.versions(name):
                raise ModelNotFound(f"model {name!r} has no version {version!r}")
            manifest = ModelManifest.load(self.root / name / version, name, version)
            if manifest.in_s3 and self.store is not None:
                local = self.store.local_path(name, version)
                manifest = dataclasses.replace(manifest, fetched_path=local)
            self._manifests[key] = manifest
        return self._manifests[key]

    def materialize(self, manifest: ModelManifest) -> None:
        """Make the version's model.onnx a verified local file before it is loaded."""
        if not manifest.in_s3:
            return
        if self.store is None:
            raise ModelLoadError(
                f"model {manifest.name!r} version {manifest.version} is stored in S3 "
                '("store": "s3") but no model bucket is configured (LAMBDASERVE_MODEL_BUCKET)'
            )
        self.store.fetch(manifest.name, manifest.version, manifest.sha256)
