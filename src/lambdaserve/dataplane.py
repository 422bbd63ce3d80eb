"""The protocol-neutral core every router and the batch job call: infer, ready, metadata.

It resolves a (name, version | label) to a loaded model, runs it, and wraps the result.
This is the seam where a version router, a cache or a shadow model plugs in later.
"""

from __future__ import annotations

from collections.abc import Iterable

from lambdaserve.errors import ModelNotFound
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.model import OnnxModel, SessionConfig
from lambdaserve.repository import ModelManifest, ModelRepository


class DataPlane:
    def __init__(
        self,
        repository: ModelRepository,
        config: SessionConfig | None = None,
        served: Iterable[str] | None = None,
    ) -> None:
        self.repository = repository
        self.config = config or SessionConfig()
        # None serves every model in the repository (batch, tests); a model function
        # passes its one model so it never answers for another function's model.
        self.served = frozenset(served) if served is not None else None
        self._models: dict[tuple[str, str], OnnxModel] = {}
        # (name, version, label) -> concrete version. A deployed repository is read-only
        # (a Lambda layer), so a successful resolution holds for the container's life and
        # the hot path never touches the filesystem. Failures are not cached.
        self._resolved: dict[tuple[str, str | None, str | None], str] = {}

    def model_names(self) -> list[str]:
        names = self.repository.names()
        return [n for n in names if self.served is None or n in self.served]

    def _check_served(self, name: str) -> None:
        if self.served is not None and name not in self.served:
            raise ModelNotFound(f"model {name!r} not found")

    def resolve(self, name: str, version: str | None = None, label: str | None = None) -> str:
        key = (name, version, label)
        resolved = self._resolved.get(key)
        if resolved is None:
            self._check_served(name)
            resolved = self._resolved[key] = self.repository.resolve(name, version, label)
        return resolved

    def versions(self, name: str) -> list[str]:
        self._check_served(name)
        return self.repository.versions(name)

    def labels(self, name: str) -> dict[str, str]:
        self._check_served(name)
        return self.repository.labels(name)

    def manifest(
        self, name: str, version: str | None = None, label: str | None = None
    ) -> ModelManifest:
        return self.repository.manifest(name, self.resolve(name, version, label))

    def model(self, name: str, version: str | None = None, label: str | None = None) -> OnnxModel:
        key = (name, self.resolve(name, version, label))
        model = self._models.get(key)
        if model is None:
            model = OnnxModel(self.repository.manifest(*key), self.config)
            model.warm()
            self._models[key] = model
        return model

    def load_all(self, name: str) -> None:
        """Load and warm every version at init, when Lambda's CPU boost is free."""
        for version in self.versions(name):
            self.model(name, version)

    def is_loaded(self, name: str, version: str) -> bool:
        return (name, version) in self._models

    def infer(
        self,
        name: str,
        request: InferenceRequest,
        version: str | None = None,
        label: str | None = None,
    ) -> InferenceResponse:
        model = self.model(name, version, label)
        outputs = model.predict(request.inputs, request.outputs)
        return InferenceResponse(model.name, model.version, outputs, request.id)
