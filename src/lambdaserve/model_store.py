"""Model files too big for the layer: kept in an S3 bucket, fetched into /tmp at init.

A version whose model.json says `"store": "s3"` ships only its model.json in the models
layer (the layer counts against every function's 250 MB); its model.onnx lives at
`s3://<bucket>/<prefix><name>/<version>/model.onnx` (`lambdaserve publish-models` puts it
there) and is downloaded once per execution environment, before its session is created,
into `<cache dir>/<name>/<version>/model.onnx` (Lambda's ephemeral storage, sized from
the model by add-model). The file must have model.json's sha256, or the model refuses to
load. A file already there with the right digest is used as it is: a retried init, a
second process in the same sandbox or a restored SnapStart snapshot (its /tmp included)
does not download again. Downloads go to a temporary name renamed into place, so a
half-written file is never taken for the model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdaserve.errors import ModelLoadError

S3_STORE = "s3"
DEFAULT_PREFIX = "models/"
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "lambdaserve-models"


def object_key(prefix: str, name: str, version: str) -> str:
    return f"{prefix}{name}/{version}/model.onnx"


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class S3ModelStore:
    """Fetches and verifies S3-stored model files; the S3 client is made on first use."""

    def __init__(
        self,
        bucket: str,
        prefix: str = DEFAULT_PREFIX,
        cache_dir: Path = DEFAULT_CACHE_DIR,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.cache_dir = cache_dir
        self._client_factory = client_factory or _s3_client
        self._verified: dict[Path, str] = {}  # files checked by this process, by digest

    def local_path(self, name: str, version: str) -> Path:
        return self.cache_dir / name / version / "model.onnx"

    def fetch(self, name: str, version: str, sha256: str) -> Path:
        """The verified local file of one version, downloaded unless already there."""
        path = self.local_path(name, version)
        if self._verified.get(path) == sha256:
            return path
        if not sha256:
            raise ModelLoadError(
                f"model {name!r} version {version} is stored in S3 but model.json has no sha256"
            )
        if not (path.is_file() and file_sha256(path) == sha256):
            self._download(name, version, path)
            found = file_sha256(path)
            if found != sha256:
                path.unlink(missing_ok=True)
                raise ModelLoadError(
                    f"model {name!r} version {version}: s3://{self.bucket}/"
                    f"{object_key(self.prefix, name, version)} has sha256 {found[:12]}..., "
                    f"model.json says {sha256[:12]}..."
                )
        self._verified[path] = sha256
        return path

    def _download(self, name: str, version: str, path: Path) -> None:
        key = object_key(self.prefix, name, version)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".model.onnx.")
        os.close(fd)
        try:
            self._client_factory().download_file(self.bucket, key, partial)
            os.replace(partial, path)
        except Exception as exc:  # botocore's errors (missing object, no access, network)
            Path(partial).unlink(missing_ok=True)
            raise ModelLoadError(
                f"cannot fetch model {name!r} version {version} from s3://{self.bucket}/{key}"
            ) from exc


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")
