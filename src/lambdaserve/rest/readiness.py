"""Which models of the repository can serve, and why not: the index's `/health` and
`/v2/health/ready` name them.

A model is not ready when its traffic.json is malformed, or a version's model.json is
invalid, or its model.onnx is missing or cannot be loaded by onnxruntime against its
manifest (what its own function meets at init, where it then reports the version not
ready instead of failing init). Each model file is loaded once per container and checked
again only when its size or mtime changes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lambdaserve.errors import LambdaserveError
from lambdaserve.repository import ModelRepository

logger = logging.getLogger("lambdaserve")

Stamp = tuple[int, int] | None  # (size, mtime ns) of model.onnx; None: no file


def _stamp(path: Path) -> Stamp:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


class Readiness:
    def __init__(self, repository: ModelRepository) -> None:
        self.repository = repository
        self._checked: dict[tuple[str, str], tuple[Stamp, str | None]] = {}

    def problems(self) -> dict[str, str]:
        """Model name -> what keeps it from serving (its first broken version)."""
        found: dict[str, str] = {}
        for name in self.repository.names():
            try:
                versions = self.repository.versions(name)
                self.repository.traffic(name)  # a malformed traffic.json breaks the model too
            except LambdaserveError as exc:
                found[name] = exc.message
                continue
            for version in versions:
                reason = self._check(name, version)
                if reason is not None:
                    found[name] = reason
                    break
        return found

    def _check(self, name: str, version: str) -> str | None:
        try:
            manifest = self.repository.manifest(name, version)
        except LambdaserveError as exc:
            return exc.message
        if manifest.in_s3:  # fetched by its own function at init, which reports it there
            return None
        stamp = _stamp(manifest.onnx_path)
        cached = self._checked.get((name, version))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        from lambdaserve.model import OnnxModel  # onnxruntime: on the first health check only

        reason: str | None = None
        try:
            OnnxModel(manifest)
        except LambdaserveError as exc:
            reason = exc.message
            logger.error("model %s version %s is not ready: %s", name, version, reason)
        self._checked[(name, version)] = (stamp, reason)
        return reason
