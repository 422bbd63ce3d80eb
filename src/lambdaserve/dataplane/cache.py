"""The cache stage: answers a repeated input from the LRU, then the shared table, else the model.

It runs after version selection, so its key names the version that was chosen (an A/B
split, a label move or a new version can never be answered from another version's entry),
and it stores neutral outputs, so every protocol encodes a hit itself. Every predict
response says what happened in `x-cache`: `hit`, `miss`, or `bypass` (the caller sent
`cache-control: no-cache` / `no-store`, the cache is off, or the input does not fit the
model, which then refuses it). `no-cache` still refreshes the entry; `no-store` does not.
By default an input is stored the second time it misses (`admission.Doorkeeper`): one-off
inputs, most of a continuous-feature model's traffic, cost a miss only their lookup.
Entries in the shared table outlive containers and deployments, so its keys also carry a
digest of the model file: a version re-published with different weights misses.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable

from lambdaserve.cache.admission import Doorkeeper
from lambdaserve.cache.key import canonical_inputs, request_key
from lambdaserve.cache.lru import LruCache
from lambdaserve.cache.table import SharedTable
from lambdaserve.dataplane.context import RequestContext, Selection
from lambdaserve.dataplane.stages import Next
from lambdaserve.errors import LambdaserveError
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest

HEADER = "x-cache"
HIT, MISS, BYPASS = "hit", "miss", "bypass"


class CacheStage:
    headers: tuple[str, ...] = ("cache-control",)

    def __init__(
        self,
        lru: LruCache | None,
        table: SharedTable | None = None,
        doorkeeper: Doorkeeper | None = None,
    ) -> None:
        self.lru = lru
        self.table = table
        # None: every miss is stored; else only inputs that missed before (admission.py).
        self.doorkeeper = doorkeeper
        self._model_digests: dict[tuple[str, str], str] = {}

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        lru, table = self.lru, self.table
        selection = ctx.selection
        if (lru is None and table is None) or selection is None:
            ctx.add_header(HEADER, BYPASS)
            return call_next(ctx, request)
        lookup = store = True
        directive = ctx.attributes.get("cache-control")
        if directive:
            directive = directive.lower()
            if "no-store" in directive:
                lookup = store = False
            elif "no-cache" in directive:
                lookup = False
        inputs = canonical_inputs(request.inputs, selection.model.input_specs)
        if inputs is None:
            ctx.add_header(HEADER, BYPASS)
            return call_next(ctx, request)
        if inputs is not request.inputs:
            # Cast here: the model need not cast them again (replace() is slower).
            cast = dict(inputs)
            request = InferenceRequest(cast, request.outputs, request.id, request.parameters)
        key = request_key(ctx.model, self._version_key(selection), inputs, request.outputs)
        if lookup:
            outputs = lru.get(key) if lru is not None else None
            if outputs is None and table is not None:
                outputs = table.get(key)
                if outputs is not None and lru is not None:
                    lru.put(key, outputs)
            if outputs is not None:
                ctx.add_header(HEADER, HIT)
                return InferenceResponse(ctx.model, selection.version, dict(outputs), request.id)
        response = call_next(ctx, request)
        ctx.add_header(HEADER, MISS if lookup else BYPASS)
        doorkeeper = self.doorkeeper
        if store and (doorkeeper is None or not lookup or doorkeeper.admit(key)):
            if lru is not None:
                lru.put(key, response.outputs)
            if table is not None:
                table.put(key, response.outputs)
        return response

    def after_restore(self) -> None:
        """A SnapStart restore: LRU TTLs were measured before it, the table client holds
        init's credentials. Start both afresh."""
        if self.lru is not None:
            self.lru.clear()
        if self.doorkeeper is not None:
            self.doorkeeper.clear()
        if self.table is not None:
            self.table.refresh()

    def digest_models(
        self, name: str, versions: Iterable[str], manifest: Callable[[str, str], ModelManifest]
    ) -> None:
        """Digest the model files now (at init), not on a version's first request: a large
        model's file would cost that request its whole read. Only the shared table needs
        them. A version that cannot be read is skipped: it is not ready, and its requests
        are refused before they reach the cache."""
        if self.table is None:
            return
        for version in versions:
            try:
                self._digest(manifest(name, version))
            except (OSError, LambdaserveError):
                continue

    def _version_key(self, selection: Selection) -> str:
        if self.table is None:
            return selection.version  # one container never sees two files for one version
        digest = self._model_digests.get((selection.manifest.name, selection.version))
        return digest if digest is not None else self._digest(selection.manifest)

    def _digest(self, manifest: ModelManifest) -> str:
        with manifest.onnx_path.open("rb") as f:
            digest = hashlib.file_digest(f, "blake2b").hexdigest()[:32]
        found = self._model_digests[(manifest.name, manifest.version)] = (
            f"{manifest.version}:{digest}"
        )
        return found
