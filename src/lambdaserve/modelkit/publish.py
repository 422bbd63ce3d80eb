"""`lambdaserve publish-models`: upload the S3-stored versions' files to the model store.

Each version whose model.json says `"store": "s3"` has its model.onnx uploaded to
`s3://<bucket>/<prefix><name>/<version>/model.onnx`, after checking the local file still
has model.json's sha256 (what the functions verify after download). An object already
there with that sha256 (in its metadata) is left alone, so publishing is idempotent and
cheap to run before every deploy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lambdaserve.model_store import DEFAULT_PREFIX, file_sha256, object_key
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.repository import ModelRepository

Report = Callable[[str], None]
SHA256_METADATA = "sha256"  # x-amz-meta-sha256


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    unchanged: list[str]


def publish_models(
    project: Project,
    bucket: str,
    client: Any,
    prefix: str = DEFAULT_PREFIX,
    report: Report = print,
) -> Published:
    repo = ModelRepository(project.models)
    uploaded: list[str] = []
    unchanged: list[str] = []
    for name in repo.names():
        for version in repo.versions(name):
            manifest = repo.manifest(name, version)
            if not manifest.in_s3:
                continue
            path, key = manifest.onnx_path, object_key(prefix, name, version)
            if not path.is_file():
                raise ModelKitError(f"{name} version {version}: {path} is missing")
            if file_sha256(path) != manifest.sha256:
                raise ModelKitError(
                    f"{name} version {version}: {path} does not have model.json's sha256"
                )
            if _stored_sha256(client, bucket, key) == manifest.sha256:
                unchanged.append(key)
                report(f"unchanged: s3://{bucket}/{key}")
                continue
            client.upload_file(
                str(path), bucket, key, ExtraArgs={"Metadata": {SHA256_METADATA: manifest.sha256}}
            )
            uploaded.append(key)
            report(f"uploaded: s3://{bucket}/{key} ({path.stat().st_size / 2**20:.1f} MB)")
    if not uploaded and not unchanged:
        report('no S3-stored model versions ("store": "s3" in model.json)')
    return Published(uploaded, unchanged)


def _stored_sha256(client: Any, bucket: str, key: str) -> str | None:
    from botocore.exceptions import ClientError

    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise ModelKitError(f"cannot read s3://{bucket}/{key}: {exc}") from None
    value = (head.get("Metadata") or {}).get(SHA256_METADATA)
    return str(value) if value else None
