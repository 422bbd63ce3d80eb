"""The fan-out job's last steps: compose and publish on success, clean up on failure.

`compose_job` runs after every shard succeeded: it checks the input was not replaced,
builds the errors object and then the predictions object from the shards' parts in
order (`compose`: server-side copies), writes the summary last (as the single path
does), and removes the work objects. `abandon_job` is the state machine's Catch: it
aborts any upload the compose step left open, deletes outputs of an earlier input
version, writes a failure summary naming the failed shard and why, and removes the
work objects. Either way nothing half-done is ever visible under `results/`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from botocore.exceptions import ClientError

from lambdaserve.batch import fanout_cost
from lambdaserve.batch.compose import Piece, compose
from lambdaserve.batch.formats import CONTENT_TYPES
from lambdaserve.batch.keys import parse_key
from lambdaserve.batch.manifest import ERRORS, PREDICTIONS, FanoutJob, delete_work
from lambdaserve.batch.source import error_code
from lambdaserve.batch.summary import FAILED, SKIPPED, SUCCEEDED, Summary
from lambdaserve.batch.summary_store import SummaryStore

log = logging.getLogger(__name__)


def read_records(s3: Any, job: FanoutJob) -> list[dict[str, Any] | None]:
    """Every shard's record, in shard order (None: the shard wrote none)."""

    def read(index: int) -> dict[str, Any] | None:
        try:
            body = s3.get_object(Bucket=job.bucket, Key=job.record_key(index))["Body"].read()
        except ClientError as exc:
            if error_code(exc) in {"NoSuchKey", "404"}:
                return None
            raise
        record: dict[str, Any] = orjson.loads(body)
        return record

    with ThreadPoolExecutor(16, thread_name_prefix="records") as pool:
        return list(pool.map(read, range(job.shards)))


def compose_job(s3: Any, job: FanoutJob) -> Summary:
    clock = time.perf_counter()
    key = parse_key(job.key)
    summary = _summary(job)
    records = read_records(s3, job)
    missing = [i for i, r in enumerate(records) if r is None or r["status"] != SUCCEEDED]
    if missing:
        raise RuntimeError(f"shard(s) {missing[:10]} have no successful record")
    done = [r for r in records if r is not None]
    replaced = _replaced(s3, job)
    if replaced:
        delete_work(s3, job)
        summary.status, summary.note = SKIPPED, replaced
        log.warning("not publishing s3://%s/%s: %s", job.bucket, job.key, replaced)
        return summary
    content_type = CONTENT_TYPES[job.kind]
    # Errors first, so predictions never appear without their errors (as the single path).
    errors = compose(s3, job.bucket, key.errors, _pieces(job, done, ERRORS), "application/x-ndjson")
    predictions = compose(s3, job.bucket, key.output, _pieces(job, done, PREDICTIONS), content_type)
    for name in ("read", "predicted", "failed", "blank_lines"):
        setattr(summary.rows, name, sum(r["rows"][name] for r in done))
    summary.outputs = {
        "predictions": _described(
            predictions.key, predictions.etag, predictions.bytes, summary.rows.predicted
        ),
        "errors": _described(errors.key, errors.etag, errors.bytes, summary.rows.failed),
    }
    compose_seconds = time.perf_counter() - clock
    summary.fanout = _fanout(job, done, compose_seconds)
    summary.fanout["copied_bytes"] = predictions.copied_bytes + errors.copied_bytes
    summary.fanout["downloaded_bytes"] = predictions.downloaded_bytes + errors.downloaded_bytes
    summary.status = SUCCEEDED
    summary.duration_seconds = time.time() - job.dispatched_at
    SummaryStore(s3, job.bucket).write(key.summary, summary)
    delete_work(s3, job)
    log.info(
        "batch %s: %d rows over %d shards, composed in %.2fs -> s3://%s/%s",
        job.key,
        summary.rows.read,
        job.shards,
        compose_seconds,
        job.bucket,
        key.output,
    )
    return summary


def abandon_job(s3: Any, job: FanoutJob, error: dict[str, Any] | None) -> Summary:
    """Clean up after a failed execution and write the failure summary."""
    key = parse_key(job.key)
    summary = _summary(job)
    for output in (key.output, key.errors):
        _abort_uploads(s3, job.bucket, output)
        s3.delete_object(Bucket=job.bucket, Key=output)  # results of an earlier version
    records = read_records(s3, job)
    failed = [r for r in records if r is not None and r["status"] != SUCCEEDED]
    done = [r for r in records if r is not None and r["status"] == SUCCEEDED]
    if failed:
        first = failed[0]
        summary.error = (
            f"shard {first['index']} of {job.shards} (bytes {first['start']}-{first['end'] - 1}, "
            f"input lines from {first['first_line']}) failed: {first['error']}"
        )
        if len(failed) > 1:
            summary.error += f" (and {len(failed) - 1} more shard(s))"
    else:
        summary.error = f"the fan-out execution failed: {_cause(error)}"
    summary.status = FAILED
    summary.fanout = _fanout(job, done, 0.0)
    summary.fanout["failed_shards"] = [
        {"index": r["index"], "error": r["error"]} for r in failed[:100]
    ]
    summary.duration_seconds = time.time() - job.dispatched_at
    SummaryStore(s3, job.bucket).write(key.summary, summary)
    delete_work(s3, job)
    log.error("batch prediction FAILED for s3://%s/%s: %s", job.bucket, job.key, summary.error)
    return summary


def _summary(job: FanoutJob) -> Summary:
    summary = Summary(job.bucket, job.key, started_at=job.dispatched_at)
    summary.model, summary.model_version = job.model, job.model_version
    summary.format, summary.size = job.format, job.size
    summary.etag, summary.version_id = job.etag, job.version_id
    return summary


def _pieces(job: FanoutJob, records: list[dict[str, Any]], what: str) -> list[Piece]:
    return [Piece(job.part_key(r["index"], what), int(r["bytes"][what])) for r in records]


def _described(key: str, etag: str, size: int, rows: int) -> dict[str, Any]:
    return {"key": key, "etag": etag, "bytes": size, "rows": rows}


def _fanout(job: FanoutJob, done: list[dict[str, Any]], compose_seconds: float) -> dict[str, Any]:
    seconds = [float(r["duration_seconds"]) for r in done]
    return {
        "shards": job.shards,
        "dispatch_seconds": job.dispatch_seconds,
        "compose_seconds": round(compose_seconds, 3),
        "shard_seconds": {
            "sum": round(sum(seconds), 3),
            "max": round(max(seconds, default=0.0), 3),
            "each": [round(s, 3) for s in seconds],
        },
        "cost_estimate": fanout_cost.estimate(seconds, job.dispatch_seconds + compose_seconds),
    }


def _replaced(s3: Any, job: FanoutJob) -> str | None:
    try:
        head = s3.head_object(Bucket=job.bucket, Key=job.key)
    except ClientError as exc:
        if error_code(exc) in {"NoSuchKey", "404", "NotFound"}:
            return "the object no longer exists"
        raise
    if job.etag and str(head.get("ETag", "")).strip('"') != job.etag:
        return "stale event: the object was replaced while it was processed"
    return None


def _abort_uploads(s3: Any, bucket: str, key: str) -> None:
    with contextlib.suppress(ClientError):  # nothing to abort, or not allowed to list
        listed = s3.list_multipart_uploads(Bucket=bucket, Prefix=key)
        for upload in listed.get("Uploads", []):
            if upload["Key"] == key:
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload["UploadId"])


def _cause(error: dict[str, Any] | None) -> str:
    """The Catch's {Error, Cause}; a Lambda error's Cause is its JSON error payload."""
    if not error:
        return "unknown error"
    cause = str(error.get("Cause") or "")
    with contextlib.suppress(ValueError, TypeError, AttributeError):
        parsed = orjson.loads(cause)
        cause = str(parsed.get("errorMessage") or cause)
    return f"{error.get('Error', 'Error')}: {cause}" if cause else str(error.get("Error"))
