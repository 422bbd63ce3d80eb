"""The S3-triggered function's first decision: score the file here, fan it out, or refuse.

- Below `LAMBDASERVE_BATCH_FANOUT_BYTES` (or with no state machine configured) the
  function scores the file itself: today's path, unchanged (`dispatch` answers None).
- Above it, the input is cut into shards (`shards.plan_shards`), the manifest is written
  and one execution of the fan-out state machine is started, named after the input and
  model versions: a repeated event finds it (or the summary of its success) and stops.
- Gzip cannot be read from the middle: it takes the single path up to
  `LAMBDASERVE_BATCH_GZIP_MAX_BYTES` (compressed), and above that fails with a summary
  saying to upload it uncompressed or pre-split.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
from botocore.exceptions import ClientError

from lambdaserve.batch.keys import BadKey, BatchKey, parse_key
from lambdaserve.batch.manifest import FanoutJob, encode_header, job_id, write_manifest
from lambdaserve.batch.shards import plan_shards, s3_reader
from lambdaserve.batch.source import InputRef, error_code
from lambdaserve.batch.summary import DISPATCHED, FAILED, SKIPPED, Summary
from lambdaserve.batch.summary_store import SummaryStore
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.errors import LambdaserveError
from lambdaserve.settings import Settings

log = logging.getLogger(__name__)

MAX_SHARDS = 10_000  # a Distributed Map runs up to 10,000 children at once


class Dispatcher:
    def __init__(
        self, s3: Any, sfn: Callable[[], Any], plane: DataPlane, settings: Settings
    ) -> None:
        self.s3, self.sfn, self.plane, self.settings = s3, sfn, plane, settings

    def dispatch(self, ref: InputRef) -> Summary | None:
        """A summary when this function does not score `ref` itself (fanned out, refused or
        a repeat); None when it should (small file, or anything the single path reports)."""
        try:
            key = parse_key(ref.key)
        except BadKey:
            return None
        if key.format is None:
            return None
        size = self._size(ref)
        if size is None:
            return None  # replaced or deleted: the single path says so
        cfg = self.settings
        if key.gzip:
            if size <= cfg.batch_gzip_max_bytes:
                return None
            return self._refuse_gzip(ref, key, size)
        if size <= cfg.batch_fanout_bytes or not cfg.batch_state_machine:
            return None
        return self._fan_out(ref, key, size)

    def _size(self, ref: InputRef) -> int | None:
        args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.etag:
            args["IfMatch"] = f'"{ref.etag.strip(chr(34))}"'
        if ref.version_id:
            args["VersionId"] = ref.version_id
        try:
            return int(self.s3.head_object(**args)["ContentLength"])
        except ClientError as exc:
            if error_code(exc) in {"PreconditionFailed", "412", "NoSuchKey", "404", "NotFound"}:
                return None
            raise

    def _refuse_gzip(self, ref: InputRef, key: BatchKey, size: int) -> Summary:
        limit = self.settings.batch_gzip_max_bytes
        summary = Summary(ref.bucket, ref.key, started_at=time.time())
        summary.model, summary.model_version = key.model, key.version
        summary.format, summary.compression, summary.size = (
            key.format.value if key.format else None,
            "gzip",
            size,
        )
        summary.etag, summary.version_id = ref.etag, ref.version_id
        summary.error = (
            f"gzip input of {size:,} bytes is above LAMBDASERVE_BATCH_GZIP_MAX_BYTES "
            f"({limit:,}): a gzip stream cannot be split into shards, and one function "
            "may not finish it in time. Upload it uncompressed (it then fans out), or "
            f"pre-split it into files below {limit:,} bytes."
        )
        summary.status = FAILED
        for stale in (key.output, key.errors):
            self.s3.delete_object(Bucket=ref.bucket, Key=stale)
        SummaryStore(self.s3, ref.bucket).write(key.summary, summary)
        log.error("batch prediction refused s3://%s/%s: %s", ref.bucket, ref.key, summary.error)
        return summary

    def _fan_out(self, ref: InputRef, key: BatchKey, size: int) -> Summary | None:
        assert key.format is not None
        clock, started = time.perf_counter(), time.time()
        ctx = RequestContext(key.model, key.version, route="batch", started=clock)
        try:
            version = self.plane.select(ctx).version
        except LambdaserveError:
            return None  # unknown model or version: the single path writes that summary
        finally:
            self.plane.finish(ctx)
        summary = Summary(ref.bucket, ref.key, started_at=started)
        summary.model, summary.model_version, summary.size = key.model, version, size
        store = SummaryStore(self.s3, ref.bucket)
        if store.already_done(key.summary, ref, key.model, version):
            summary.status, summary.note = SKIPPED, "already processed (repeated event)"
            return summary
        job_key = job_id(ref, key.model, version)
        execution = self._execution_arn(f"batch-{job_key}")
        status = self._execution_status(execution)
        if status is not None:
            summary.status = SKIPPED
            summary.note = f"repeated event: fan-out execution {execution} is {status}"
            log.info("skipping s3://%s/%s: %s", ref.bucket, ref.key, summary.note)
            return summary
        shard_bytes = max(self.settings.batch_shard_bytes, -(-size // MAX_SHARDS))
        reader = s3_reader(self.s3, ref.bucket, ref.key, ref.etag, ref.version_id)
        try:
            plan = plan_shards(reader, size, key.format, shard_bytes)
        except ClientError as exc:
            if error_code(exc) in {"PreconditionFailed", "412", "NoSuchKey", "404"}:
                summary.status, summary.note = SKIPPED, "stale event: the object changed"
                return summary
            raise
        job = FanoutJob(
            id=job_key,
            bucket=ref.bucket,
            key=ref.key,
            etag=ref.etag.strip('"') if ref.etag else None,
            version_id=ref.version_id,
            size=size,
            model=key.model,
            model_version=version,
            format=key.format.value,
            header_b64=encode_header(plan.header),
            shards=len(plan.shards),
            dispatched_at=started,
            dispatch_seconds=round(time.perf_counter() - clock, 3),
        )
        write_manifest(self.s3, job, plan.shards)
        try:
            self.sfn().start_execution(
                stateMachineArn=self.settings.batch_state_machine,
                name=job.execution_name,
                input=orjson.dumps(
                    execution_input(job, self.settings.batch_max_concurrency)
                ).decode(),
            )
        except ClientError as exc:
            if error_code(exc) != "ExecutionAlreadyExists":
                raise
            summary.status, summary.note = SKIPPED, "repeated event: its execution exists"
            return summary
        summary.status = DISPATCHED
        summary.note = f"fanned out over {job.shards} shards (execution {job.execution_name})"
        log.info(
            "batch s3://%s/%s (%d bytes): %s, planned in %.2fs",
            ref.bucket,
            ref.key,
            size,
            summary.note,
            job.dispatch_seconds,
        )
        return summary

    def _execution_arn(self, name: str) -> str:
        """Executions are named after the job: the ARN is known without listing."""
        machine = self.settings.batch_state_machine
        return machine.replace(":stateMachine:", ":execution:", 1) + ":" + name

    def _execution_status(self, arn: str) -> str | None:
        try:
            return str(self.sfn().describe_execution(executionArn=arn)["status"])
        except ClientError as exc:
            if error_code(exc) == "ExecutionDoesNotExist":
                return None
            raise


def execution_input(job: FanoutJob, max_concurrency: int) -> dict[str, Any]:
    """The state machine's input: the job, where the Map reads its items, how many at once."""
    return {
        "job": job.to_json(),
        "manifest": {"Bucket": job.bucket, "Key": job.manifest_key},
        "max_concurrency": max_concurrency,
    }
