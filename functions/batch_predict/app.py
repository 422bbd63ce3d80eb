"""Lambda entry point of batch prediction, triggered by S3 ObjectCreated under `incoming/`.

One function, several event shapes (README, Batch fan-out): an S3 notification (score the
file here, or fan it out over the state machine when it is large), a Map item
(`{"job", "shard"}`: score one byte range) and the state machine's last steps
(`{"action": "compose" | "abandon", "job"}`).

Every record is processed even if an earlier one failed. A bad input (unknown model,
unreadable file, ...) is answered by its failure summary and an ERROR log line: retrying
cannot fix it. An infrastructure error (S3 or the runtime failing) makes the invocation
raise at the end, so Lambda retries it and finally hands it to the on-failure destination.
"""

from __future__ import annotations

import gc
import logging
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

from lambdaserve.batch.config import BatchConfig, session_threads
from lambdaserve.batch.dispatch import Dispatcher
from lambdaserve.batch.events import object_refs
from lambdaserve.batch.job import BatchJob
from lambdaserve.batch.manifest import FanoutJob
from lambdaserve.batch.parse_worker import shared_parser
from lambdaserve.batch.publish import abandon_job, compose_job
from lambdaserve.batch.shard_worker import run_shard
from lambdaserve.batch.shards import Shard
from lambdaserve.batch.summary import DISPATCHED, SKIPPED
from lambdaserve.dataplane import create_dataplane
from lambdaserve.model import SessionConfig
from lambdaserve.observability import logs
from lambdaserve.observability.batch import record_job
from lambdaserve.settings import Settings

log = logging.getLogger("lambdaserve.batch")
log.setLevel(logging.INFO)

settings = Settings.from_env()
logs.setup(function="batch")  # Powertools JSON logs, imported on first use
config = BatchConfig.from_settings(settings)
# Started now and kept for warm calls; it imports numpy while this module finishes loading.
parser = shared_parser() if config.parse_process else None
plane = create_dataplane(settings, config=SessionConfig(intra_op_threads=session_threads(settings)))
served = frozenset(plane.model_names())  # metric dimensions only for known models
if parser is not None:
    parser.ready()  # during init, so the first job does not wait for it to start
# Init's objects (boto3, numpy, onnxruntime) never change: without this, the first job's
# full collection walks them all (~35 ms).
gc.freeze()


@cache
def s3() -> Any:
    """Created on first use, so endpoint variables and test mocks set before it apply."""
    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))


@cache
def sfn() -> Any:
    return boto3.client("stepfunctions", config=Config(retries={"mode": "standard"}))


class BatchFailed(RuntimeError):
    """At least one record hit an infrastructure error; a retry may succeed."""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    remaining = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = lambda: context.get_remaining_time_in_millis() / 1000  # noqa: E731
    request_id = getattr(context, "aws_request_id", None)
    if "job" in event:
        return _fanout_step(event, remaining)
    refs, skipped = object_refs(event)
    results: list[dict[str, Any]] = []
    crashes: list[str] = []
    dispatcher = Dispatcher(s3(), sfn, plane, settings)
    for ref in refs:
        job = BatchJob(s3(), plane, config, remaining, request_id)
        try:
            summary = dispatcher.dispatch(ref) or job.run(ref)
        except Exception as exc:
            log.exception("batch prediction crashed for s3://%s/%s", ref.bucket, ref.key)
            crashes.append(f"{ref.key}: {type(exc).__name__}: {exc}")
            continue
        results.append({"key": ref.key, "status": summary.status, "note": summary.note})
        if summary.status == DISPATCHED:
            continue  # the compose (or cleanup) step records the job when it ends
        record_job(summary.to_json(), served)  # batch metrics (README, Observability)
        if summary.failed:
            log.error(
                "batch prediction failed for s3://%s/%s: %s", ref.bucket, ref.key, summary.error
            )
    if crashes:
        raise BatchFailed(f"{len(crashes)} of {len(refs)} object(s) failed: " + "; ".join(crashes))
    return {"processed": results, "skipped": [s.reason for s in skipped]}


def _fanout_step(event: dict[str, Any], remaining: Any) -> dict[str, Any]:
    """A step of the fan-out state machine: one shard, or the compose / cleanup step."""
    job = FanoutJob.from_json(event["job"])
    if "shard" in event:
        return run_shard(s3(), plane, config, job, Shard.from_json(event["shard"]), remaining)
    action = event.get("action")
    if action == "compose":
        summary = compose_job(s3(), job)
    elif action == "abandon":
        summary = abandon_job(s3(), job, event.get("error"))
    else:
        raise ValueError(f"unknown fan-out step {action!r}: expected compose or abandon")
    if summary.status != SKIPPED:
        record_job(summary.to_json(), served)
    return {"status": summary.status, "key": job.key, "error": summary.error, "note": summary.note}
