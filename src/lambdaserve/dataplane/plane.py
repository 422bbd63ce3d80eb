"""DataPlane: the loaded models of a function, version selection and the stage chain.

Every prediction, from any protocol or the batch job, goes `select(ctx)` then
`infer(ctx, request)` (or `predict_block(ctx, inputs)` for batch blocks), then `finish(ctx)`.
See the package docstring for the contract.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from lambdaserve.dataplane.context import RequestContext, Selection
from lambdaserve.dataplane.selection import PathSelector, Selector
from lambdaserve.dataplane.stages import Finisher, Next, Stage, chain, finishers, run_model
from lambdaserve.errors import ModelLoadError, ModelNotFound, ModelNotReady
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.model import OnnxModel, SessionConfig
from lambdaserve.repository import ModelManifest, ModelRepository

logger = logging.getLogger("lambdaserve")


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
        # (name, version) -> why it failed to load at init (load_all): not ready, not retried
        # (a deployed repository is read-only), answered 503 with the reason.
        self.unready: dict[tuple[str, str], str] = {}
        self._selections: dict[tuple[str, str], Selection] = {}
        # (name, version, label) -> concrete version. A deployed repository is read-only
        # (a Lambda layer), so a successful resolution holds for the container's life and
        # the hot path never touches the filesystem. Failures are not cached.
        self._resolved: dict[tuple[str, str | None, str | None], str] = {}
        self.selector: Selector = PathSelector(self.resolve)
        self.stages: tuple[Stage, ...] = ()
        self._chain: Next = run_model
        self._finishers: tuple[Finisher, ...] = ()
        self.request_headers: tuple[str, ...] = ()

    def configure(self, selector: Selector | None = None, stages: Sequence[Stage] = ()) -> None:
        """Install the selector and the stages (outermost first); the chain is built here, once."""
        self.selector = selector or PathSelector(self.resolve)
        self.stages = tuple(stages)
        self._chain = chain(self.stages)
        parts: tuple[Selector | Stage, ...] = (self.selector, *self.stages)
        self._finishers = finishers(parts)
        wanted: dict[str, None] = {}
        for part in parts:
            wanted.update(dict.fromkeys(h.lower() for h in part.headers))
        self.request_headers = tuple(wanted)

    # ------------------------------------------------------------------ the request path
    def select(self, ctx: RequestContext) -> Selection:
        """Choose the version for this request or job, once; decode and encode use its manifest."""
        version = self.selector(ctx)
        key = (ctx.model, version)
        selection = self._selections.get(key)
        if selection is None:
            model = self.model(ctx.model, version)
            selection = self._selections[key] = Selection(model.version, model.manifest, model)
        ctx.selection = selection
        return selection

    def infer(self, ctx: RequestContext, request: InferenceRequest) -> InferenceResponse:
        """Run the stages and the selected model on one decoded request."""
        ctx.request = request
        response = self._chain(ctx, request)
        ctx.response = response
        return response

    def predict_block(
        self, ctx: RequestContext, inputs: Mapping[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """The bulk path for batch blocks: the selected model on many rows, no per-request stages.

        Per-request stages (cache, shadow) do not apply to blocks; job-level stages see the
        job through `finish(ctx)`. Safe to call from a worker thread.
        """
        selection = ctx.selection
        if selection is None:
            raise RuntimeError("DataPlane.select must run before DataPlane.predict_block")
        return selection.model.predict(inputs)

    def finish(self, ctx: RequestContext) -> None:
        """The request or job is over (answered or failed): stages that keep records see it.

        A failing finisher (a metrics or capture record) is logged and never fails the request.
        """
        for finisher in self._finishers:
            try:
                finisher.finish(ctx)
            except Exception:
                logger.exception("dataplane stage %r failed to finish", finisher)

    def predict(
        self,
        name: str,
        request: InferenceRequest,
        version: str | None = None,
        label: str | None = None,
    ) -> InferenceResponse:
        """select + infer + finish in one call, for callers without a wire protocol."""
        ctx = RequestContext(name, version, label)
        try:
            self.select(ctx)
            return self.infer(ctx, request)
        except Exception as exc:
            ctx.status = getattr(exc, "status", 500)
            ctx.error = exc
            raise
        finally:
            self.finish(ctx)

    # ------------------------------------------------------------------ the repository
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
            if key in self.unready:
                raise ModelNotReady(
                    f"model {name!r} version {key[1]} is not ready: {self.unready[key]}"
                )
            manifest = self.repository.manifest(*key)
            self.repository.materialize(manifest)  # an S3-stored file is fetched first
            model = OnnxModel(manifest, self.config)
            model.warm()
            self._models[key] = model
        return model

    def loaded(self, name: str) -> list[dict[str, Any]]:
        """What is loaded of `name`: per version, load and warm-up time and providers."""
        return [
            {
                "version": version,
                "load_ms": round(model.load_seconds * 1000, 3),
                "warm_up_ms": round(model.warm_seconds * 1000, 3),
                "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(model.loaded_at)),
                "execution_providers": model.providers,
            }
            for version in self.versions(name)
            if (model := self._models.get((name, version))) is not None
        ]

    def load_all(self, name: str) -> None:
        """Load and warm every version at init, when Lambda's CPU boost is free.

        A version that cannot load (model file missing or corrupt, manifest invalid) is
        recorded as not ready, and logged; the others serve. Raising here would fail the
        function's init, which Lambda retries on every request: a crash loop that says
        nothing to callers.
        """
        for version in self.versions(name):
            try:
                self.model(name, version)
            except ModelLoadError as exc:
                self.unready[(name, version)] = exc.message
                logger.error(
                    "model %s version %s is not ready: %s", name, version, exc.message, exc_info=exc
                )

    def is_loaded(self, name: str, version: str) -> bool:
        return (name, version) in self._models
