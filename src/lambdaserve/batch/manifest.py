"""A fan-out job: what every step of the state machine needs to know, and where it writes.

The dispatcher fixes everything once (input version, model version, header, shards) and
passes it as the execution's input; the Map hands each worker the job and one shard of
the manifest (a JSON array in S3, read by the Map's ItemReader). Work objects live under
`fanout/<job id>/` (never under `incoming/` or `results/`): the shards' part objects and
their records, removed when the job ends either way. The job id is a pure function of the
input version and the model version, so a repeated event names the same execution.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from lambdaserve.batch.keys import Format
from lambdaserve.batch.shards import Shard
from lambdaserve.batch.source import InputRef

WORK_PREFIX = "fanout/"
PREDICTIONS, ERRORS = "predictions", "errors"


def job_id(ref: InputRef, model: str, version: str) -> str:
    identity = "\n".join(
        (ref.bucket, ref.key, ref.etag or "", ref.version_id or "", model, version)
    )
    return hashlib.sha256(identity.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class FanoutJob:
    id: str
    bucket: str
    key: str
    etag: str | None
    version_id: str | None
    size: int
    model: str
    model_version: str
    format: str
    header_b64: str | None  # the input's first line (CSV), base64: it need not be UTF-8
    shards: int
    dispatched_at: float
    dispatch_seconds: float

    @property
    def ref(self) -> InputRef:
        return InputRef(self.bucket, self.key, self.etag, self.version_id)

    @property
    def kind(self) -> Format:
        return Format(self.format)

    @property
    def header(self) -> bytes | None:
        return None if self.header_b64 is None else base64.b64decode(self.header_b64)

    @property
    def prefix(self) -> str:
        return f"{WORK_PREFIX}{self.id}/"

    @property
    def manifest_key(self) -> str:
        return self.prefix + "manifest.json"

    def part_key(self, shard: int, what: str) -> str:
        return f"{self.prefix}parts/{shard:05d}.{what}"

    def record_key(self, shard: int) -> str:
        return f"{self.prefix}shards/{shard:05d}.json"

    @property
    def execution_name(self) -> str:
        return f"batch-{self.id}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FanoutJob:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__})


def encode_header(header: bytes | None) -> str | None:
    return None if header is None else base64.b64encode(header).decode()


def write_manifest(s3: Any, job: FanoutJob, shards: list[Shard]) -> None:
    body = orjson.dumps([s.to_json() for s in shards])
    s3.put_object(
        Bucket=job.bucket, Key=job.manifest_key, Body=body, ContentType="application/json"
    )


def delete_work(s3: Any, job: FanoutJob) -> int:
    """Remove every work object of the job (parts, records, manifest); how many."""
    removed = 0
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=job.bucket, Prefix=job.prefix):
        keys = [{"Key": obj["Key"]} for obj in page.get("Contents", [])]
        if keys:
            s3.delete_objects(Bucket=job.bucket, Delete={"Objects": keys, "Quiet": True})
            removed += len(keys)
    return removed
