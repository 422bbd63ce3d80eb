"""One S3 input object, end to end: an S3 source, the block pipeline, an S3 sink, a summary.

Order of effects, so a reader never sees a half-done job:
1. predictions and errors are streamed into multipart uploads (invisible until complete);
2. on success the errors object, then the predictions object are completed, and the
   summary (naming both ETags and the input ETag) is written last;
3. on failure both uploads are aborted, outputs of an earlier input version are deleted,
   and only a summary with the error is written.
A repeated event for an input version whose summary already says `succeeded` (and whose
outputs still carry the ETags it names) is a no-op; the object is read with `IfMatch`
on the event's ETag, so a stale event never overwrites results of a newer upload.

The model goes through the dataplane like every request: one `select` per job picks the
version (the key's `v<n>/`, else the default), blocks use its bulk `predict_block`, and
`finish` tells the stages that keep records how the job ended.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from lambdaserve.batch.blocks import UnreadableInput
from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.formats import CONTENT_TYPES
from lambdaserve.batch.keys import BadKey, BatchKey, Format, fallback_summary_key, parse_key
from lambdaserve.batch.parse_worker import shared_parser
from lambdaserve.batch.pipeline import BlockPipeline
from lambdaserve.batch.prediction_columns import Outputs
from lambdaserve.batch.sink import S3MultipartSink
from lambdaserve.batch.source import InputRef, S3ObjectSource
from lambdaserve.batch.summary import FAILED, SKIPPED, SUCCEEDED, Summary
from lambdaserve.batch.summary_store import SummaryStore
from lambdaserve.dataplane import DataPlane, RequestContext, Selection
from lambdaserve.errors import LambdaserveError
from lambdaserve.observability.tracing import SPANS_NOTE, SpanLog

log = logging.getLogger(__name__)


class JobTimeout(LambdaserveError):
    """The invocation is about to time out: stop cleanly instead of being killed."""


class BatchJob:
    def __init__(
        self,
        s3: Any,
        plane: DataPlane,
        config: BatchConfig | None = None,
        remaining_seconds: Callable[[], float] | None = None,
        request_id: str | None = None,
    ) -> None:
        self.s3 = s3
        self.plane = plane
        self.config = config or BatchConfig()
        self.remaining_seconds = remaining_seconds
        self.request_id = request_id

    def run(self, ref: InputRef) -> Summary:
        """Process one object; returns its summary (failed, succeeded or skipped).

        Input problems (bad key, unknown model, unreadable file) give a failed summary;
        infrastructure errors propagate after a best-effort failure summary.
        """
        summary = Summary(ref.bucket, ref.key, started_at=time.time())
        summary.request_id = self.request_id
        clock = time.perf_counter()
        try:
            key = parse_key(ref.key)
        except BadKey as exc:
            return self._fail(summary, fallback_summary_key(ref.key), None, exc, clock)
        summary.model, summary.model_version = key.model, key.version
        summary.compression = "gzip" if key.gzip else None
        summary.format = key.format.value if key.format else None
        ctx = RequestContext(key.model, key.version, route="batch", started=clock)
        try:
            return self._run(ref, key, ctx, summary, clock)
        except Exception as exc:
            ctx.status, ctx.error = getattr(exc, "status", 500), exc
            raise
        finally:
            self.plane.finish(ctx)

    def _run(
        self, ref: InputRef, key: BatchKey, ctx: RequestContext, summary: Summary, clock: float
    ) -> Summary:
        try:
            if key.format is None:
                raise UnreadableInput(
                    f"unsupported file type {key.path!r}: use .csv or .jsonl, optionally .gz"
                )
            selection = self.plane.select(ctx)
            summary.model_version = selection.version
            pipeline = self._pipeline(ctx, selection, key.format)
        except LambdaserveError as exc:
            return self._fail(summary, key.summary, key, exc, clock, ctx)
        source = S3ObjectSource(
            self.s3, ref, key.format, gzip=key.gzip, read_bytes=self.config.read_bytes
        )
        sink = S3MultipartSink(
            self.s3,
            ref.bucket,
            predictions_key=key.output,
            errors_key=key.errors,
            content_type=CONTENT_TYPES[key.format],
            part_bytes=self.config.part_bytes,
            gzip=key.gzip,
        )
        store = SummaryStore(self.s3, ref.bucket)
        # The GET overlaps the repeated-event check: no wait when there is work to do.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3") as io:
            opening = io.submit(source.open)
            try:
                done = store.already_done(key.summary, ref, key.model, selection.version)
            except BaseException:
                with contextlib.suppress(Exception):  # (its own failure is moot now)
                    opening.result()
                source.close()
                raise
            if done:
                with contextlib.suppress(Exception):
                    opening.result()
                source.close()
                return self._skip(summary, "already processed (repeated event)")
            gone = opening.result()
        if gone:
            return self._skip(summary, gone)
        summary.etag, summary.version_id, summary.size = source.etag, source.version_id, source.size
        try:
            spans = SpanLog()  # the job's steps, as subsegments when tracing is on
            ctx.note(SPANS_NOTE, spans)
            pipeline.run(source, sink, summary.rows, lambda: self._check_deadline(summary), spans)
            # Asked last, just before publishing: the window for a newer upload to slip in
            # unseen is as short as it can be.
            replaced = source.replaced_since()
            if replaced:  # its own event writes its results
                sink.discard()
                return self._skip(summary, replaced)
            summary.outputs = sink.publish()
        except Exception as exc:
            sink.discard()
            self._fail(summary, key.summary, key, exc, clock, ctx)
            if isinstance(exc, LambdaserveError):
                return summary
            raise
        finally:
            source.close()
        summary.status = SUCCEEDED
        summary.duration_seconds = time.perf_counter() - clock
        store.write(key.summary, summary)
        log.info(
            "batch %s: %d rows read, %d predicted, %d failed in %.2fs -> s3://%s/%s",
            ref.key,
            summary.rows.read,
            summary.rows.predicted,
            summary.rows.failed,
            summary.duration_seconds,
            ref.bucket,
            key.output,
        )
        return summary

    def _pipeline(self, ctx: RequestContext, selection: Selection, kind: Format) -> BlockPipeline:
        name, plane = selection.manifest.inputs[0].name, self.plane

        def predict(features: np.ndarray) -> Outputs:
            return plane.predict_block(ctx, {name: features})

        csv_process = self.config.parse_process and kind is Format.CSV
        return BlockPipeline(
            predict, selection.manifest, self.config, shared_parser() if csv_process else None
        )

    @staticmethod
    def _skip(summary: Summary, why: str) -> Summary:
        summary.status, summary.note = SKIPPED, why
        log.log(
            logging.INFO if why.startswith("already") else logging.WARNING,
            "skipping s3://%s/%s: %s",
            summary.bucket,
            summary.key,
            why,
        )
        return summary

    def _fail(
        self,
        summary: Summary,
        summary_key: str,
        key: BatchKey | None,
        exc: BaseException,
        clock: float,
        ctx: RequestContext | None = None,
    ) -> Summary:
        if ctx is not None:
            ctx.status, ctx.error = getattr(exc, "status", 500), exc
        summary.status = FAILED
        summary.error = (
            exc.message if isinstance(exc, LambdaserveError) else f"{type(exc).__name__}: {exc}"
        )
        summary.outputs = {}
        summary.duration_seconds = time.perf_counter() - clock
        log.error(
            "batch prediction FAILED for s3://%s/%s: %s",
            summary.bucket,
            summary.key,
            summary.error,
            exc_info=not isinstance(exc, LambdaserveError),
        )
        try:
            if key is not None:
                # Results of an earlier version of this input would now be misleading.
                for stale in (key.output, key.errors):
                    self.s3.delete_object(Bucket=summary.bucket, Key=stale)
            SummaryStore(self.s3, summary.bucket).write(summary_key, summary)
        except Exception:
            log.exception("could not write the failure summary s3://%s/%s", summary.bucket, key)
        return summary

    def _check_deadline(self, summary: Summary) -> None:
        if self.remaining_seconds is None:
            return
        if self.remaining_seconds() < self.config.stop_margin_seconds:
            raise JobTimeout(
                f"stopped after {summary.rows.read:,} rows: the invocation was about to time "
                "out. Split the input into smaller files, or raise the function's timeout "
                "or memory (more vCPUs)."
            )
