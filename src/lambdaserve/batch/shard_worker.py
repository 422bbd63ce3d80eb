"""One shard of a fan-out job: its byte range through the same block pipeline, into part objects.

The Map runs this on every shard of the manifest. The shard reads its range of the exact
input version (IfMatch on the ETag), with the input's header and line numbers, and writes
its predictions and errors as two part objects the compose step concatenates. Its record
(rows, duration, part sizes, or why it failed) is written beside them, so the compose and
cleanup steps can name what each shard did. A retried shard overwrites the same objects.

Failures raise: `ShardFailed` for the input's own faults (the Map must not retry them),
`ShardCrashed` for anything else (the state machine retries those a few times).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.formats import CONTENT_TYPES
from lambdaserve.batch.keys import Format
from lambdaserve.batch.manifest import ERRORS, PREDICTIONS, FanoutJob
from lambdaserve.batch.parse_worker import shared_parser
from lambdaserve.batch.pipeline import BlockPipeline
from lambdaserve.batch.prediction_columns import Outputs
from lambdaserve.batch.shards import Shard
from lambdaserve.batch.sink import S3MultipartSink
from lambdaserve.batch.source import S3ObjectSource
from lambdaserve.batch.summary import RowCounts
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.errors import LambdaserveError

log = logging.getLogger(__name__)


class ShardFailed(RuntimeError):
    """The shard's input cannot be scored (unreadable, replaced, model gone): no retry."""


class ShardCrashed(RuntimeError):
    """An infrastructure error while scoring the shard: a retry may succeed."""


def run_shard(
    s3: Any,
    plane: DataPlane,
    config: BatchConfig,
    job: FanoutJob,
    shard: Shard,
    remaining_seconds: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Score one shard; returns (and stores) its record."""
    clock = time.perf_counter()
    ctx = RequestContext(job.model, job.model_version, route="batch", started=clock)
    counts = RowCounts()
    sink: S3MultipartSink | None = None
    source: S3ObjectSource | None = None
    try:
        selection = plane.select(ctx)
        if selection.version != job.model_version:
            raise ShardFailed(f"model version {job.model_version} is not served any more")
        pipeline = _pipeline(plane, ctx, selection.manifest, config, job.kind)
        source = S3ObjectSource(
            s3,
            job.ref,
            job.kind,
            byte_range=shard.byte_range(job.header),
            read_bytes=config.read_bytes,
        )
        gone = source.open()
        if gone:
            raise ShardFailed(gone)
        sink = S3MultipartSink(
            s3,
            job.bucket,
            predictions_key=job.part_key(shard.index, PREDICTIONS),
            errors_key=job.part_key(shard.index, ERRORS),
            content_type=CONTENT_TYPES[job.kind],
            part_bytes=config.part_bytes,
        )
        pipeline.run(source, sink, counts, lambda: _check_deadline(remaining_seconds, config))
        outputs = sink.publish()
    except Exception as exc:
        if sink is not None:
            sink.discard()
        ctx.status, ctx.error = getattr(exc, "status", 500), exc
        failure = _as_failure(exc)
        try:
            _store(s3, job, shard, _record(shard, counts, clock, error=str(failure)))
        except Exception:  # the cleanup step then names the Map's error instead
            log.exception("could not store the record of failed shard %d", shard.index)
        log.error(
            "fan-out shard %d of s3://%s/%s failed: %s", shard.index, job.bucket, job.key, failure
        )
        raise failure from exc
    finally:
        if source is not None:
            source.close()
        plane.finish(ctx)
    record = _record(shard, counts, clock, outputs=outputs)
    _store(s3, job, shard, record)
    return record


def _pipeline(
    plane: DataPlane, ctx: RequestContext, manifest: Any, config: BatchConfig, kind: Format
) -> BlockPipeline:
    name = manifest.inputs[0].name

    def predict(features: np.ndarray) -> Outputs:
        return plane.predict_block(ctx, {name: features})

    parser = shared_parser() if config.parse_process and kind is Format.CSV else None
    return BlockPipeline(predict, manifest, config, parser)


def _as_failure(exc: Exception) -> RuntimeError:
    if isinstance(exc, ShardFailed | ShardCrashed):
        return exc
    if isinstance(exc, LambdaserveError):
        return ShardFailed(exc.message)
    return ShardCrashed(f"{type(exc).__name__}: {exc}")


def _check_deadline(remaining_seconds: Callable[[], float] | None, config: BatchConfig) -> None:
    if remaining_seconds is not None and remaining_seconds() < config.stop_margin_seconds:
        raise ShardFailed(
            "the shard was about to time out: lower LAMBDASERVE_BATCH_SHARD_BYTES "
            "(smaller shards) or raise the function's memory (more vCPUs)"
        )


def _record(
    shard: Shard,
    counts: RowCounts,
    clock: float,
    outputs: dict[str, dict[str, Any]] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        **shard.to_json(),
        "status": "failed" if error else "succeeded",
        "error": error,
        "rows": {
            "read": counts.read,
            "predicted": counts.predicted,
            "failed": counts.failed,
            "blank_lines": counts.blank_lines,
        },
        "bytes": {name: out["bytes"] for name, out in (outputs or {}).items()},
        "duration_seconds": round(time.perf_counter() - clock, 3),
    }


def _store(s3: Any, job: FanoutJob, shard: Shard, record: dict[str, Any]) -> None:
    s3.put_object(
        Bucket=job.bucket,
        Key=job.record_key(shard.index),
        Body=orjson.dumps(record),
        ContentType="application/json",
    )
