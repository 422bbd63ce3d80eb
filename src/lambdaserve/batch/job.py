"""One input object, end to end: stream it from S3, predict block by block, write results.

Order of effects, so a reader never sees a half-done job:
1. predictions and errors are streamed into multipart uploads (invisible until complete);
2. on success the errors object, then the predictions object are completed, and the
   summary (naming both ETags and the input ETag) is written last;
3. on failure both uploads are aborted, outputs of an earlier input version are deleted,
   and only a summary with the error is written.
A repeated event for an input version whose summary already says `succeeded` (and whose
outputs still carry the ETags it names) is a no-op; the object is read with `IfMatch`
on the event's ETag, so a stale event never overwrites results of a newer upload.

Throughput: the main thread reads and parses, a worker thread runs the model and
formats (onnxruntime releases the GIL), so parsing block i+1 overlaps predicting block i.
With `parse_process` (default with 2+ vCPUs), plain CSV blocks are parsed by a helper
process (`parse_worker`): numpy's loadtxt holds the GIL, and there it no longer
serializes with the reading, formatting and uploading done here. Blocks are read
`read_ahead` ahead of the model so the parser never waits for input, and the first
blocks are small so the model starts early; the job is then CPU-bound on both vCPUs.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson
from botocore.exceptions import ClientError

from lambdaserve.batch.csv_reader import CsvReader, read_header
from lambdaserve.batch.jsonl_reader import JsonlReader
from lambdaserve.batch.keys import BadKey, BatchKey, Format, fallback_summary_key, parse_key
from lambdaserve.batch.multipart import S3Upload
from lambdaserve.batch.outputs import OutputColumns
from lambdaserve.batch.parse_worker import OffloadedCsv, shared_parser
from lambdaserve.batch.rows import ParsedBlock, UnreadableInput
from lambdaserve.batch.stream import Block, gunzip, lines_blocks
from lambdaserve.batch.summary import FAILED, SKIPPED, SUCCEEDED, Summary
from lambdaserve.batch.writers import CsvWriter, JsonlWriter, Writer
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import LambdaserveError
from lambdaserve.model import OnnxModel
from lambdaserve.settings import Settings, usable_cpus

log = logging.getLogger(__name__)

CONTENT_TYPES = {Format.CSV: "text/csv", Format.JSONL: "application/x-ndjson"}
READ_BYTES = 1024 * 1024


class JobTimeout(LambdaserveError):
    """The invocation is about to time out: stop cleanly instead of being killed."""


@dataclass(frozen=True)
class BatchConfig:
    block_bytes: int = 2 * 1024 * 1024  # smaller blocks fill and drain the pipeline faster
    first_block_bytes: int = 64 * 1024  # blocks grow from this: the model starts sooner
    # Blocks handed to the parser beyond the one being predicted: it never waits for input.
    read_ahead: int = 2
    part_bytes: int = 16 * 1024 * 1024
    read_bytes: int = READ_BYTES
    # Parse plain CSV blocks in a helper process (see `parse_worker`), beside the model.
    parse_process: bool = False
    # Stop this long before the Lambda deadline: enough to abort and write the summary.
    stop_margin_seconds: float = 20.0

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchConfig:
        return cls(
            block_bytes=settings.batch_block_bytes,
            part_bytes=settings.batch_part_bytes,
            parse_process=settings.batch_parse_process,
        )

    @property
    def max_block_bytes(self) -> int:
        return max(64 * 1024 * 1024, 16 * self.block_bytes)


@dataclass(frozen=True)
class InputRef:
    """The object an S3 event names (etag/version_id pin the exact version, when known)."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None


def session_threads(settings: Settings) -> int:
    """ORT threads for batch: by default one vCPU is left to the reading/parsing thread."""
    return settings.batch_intra_op_threads or max(1, usable_cpus() - 1)


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

    # ---------------------------------------------------------------- entry point
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
        try:
            if key.format is None:
                raise UnreadableInput(
                    f"unsupported file type {key.path!r}: use .csv or .jsonl, optionally .gz"
                )
            model = self.plane.model(key.model, key.version)
            summary.model_version = model.version
            columns = OutputColumns.for_model(model.manifest)
        except LambdaserveError as exc:
            return self._fail(summary, key.summary, key, exc, clock)
        # S3 round trips that do not depend on each other overlap (`io`).
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="s3") as io:
            return self._process(ref, key, model, columns, summary, clock, io)

    def _process(
        self,
        ref: InputRef,
        key: BatchKey,
        model: OnnxModel,
        columns: OutputColumns,
        summary: Summary,
        clock: float,
        io: ThreadPoolExecutor,
    ) -> Summary:
        assert key.format is not None
        predictions = S3Upload(
            self.s3,
            ref.bucket,
            key.output,
            part_bytes=self.config.part_bytes,
            content_type="application/gzip" if key.gzip else CONTENT_TYPES[key.format],
            gzip=key.gzip,
        )
        errors = S3Upload(
            self.s3,
            ref.bucket,
            key.errors,
            part_bytes=self.config.part_bytes,
            content_type="application/x-ndjson",
        )
        getting = io.submit(self._get, ref)  # beside the check: no wait when there is work
        try:
            done = self._already_done(ref, key, model)
        except BaseException:
            _close_body(getting)
            raise
        if done:
            _close_body(getting)
            summary.status, summary.note = SKIPPED, "already processed (repeated event)"
            log.info("skipping s3://%s/%s: %s", ref.bucket, ref.key, summary.note)
            return summary
        try:
            response = getting.result()
        except ClientError as exc:
            skipped = _skippable(exc)
            if skipped is None:
                raise
            summary.status, summary.note = SKIPPED, skipped
            log.warning("skipping s3://%s/%s: %s", ref.bucket, ref.key, skipped)
            return summary
        summary.etag = str(response.get("ETag", "")).strip('"') or None
        summary.version_id = response.get("VersionId")
        summary.size = response.get("ContentLength")
        try:
            self._stream(response["Body"], key, model, columns, predictions, errors, summary)
            # Asked last, just before publishing: the window for a newer upload to slip in
            # unseen is as short as it can be.
            replaced = self._replaced_since(ref, summary.etag)
            if replaced:
                # A newer upload arrived while we worked: its own event writes its results.
                predictions.abort()
                errors.abort()
                summary.status, summary.note = SKIPPED, replaced
                log.warning("skipping s3://%s/%s: %s", ref.bucket, ref.key, replaced)
                return summary
            errors.complete()  # first: predictions never appear without their errors
            predictions.complete()
        except Exception as exc:
            predictions.abort()
            errors.abort()
            if isinstance(exc, LambdaserveError):
                return self._fail(summary, key.summary, key, exc, clock)
            self._fail(summary, key.summary, key, exc, clock)
            raise
        finally:
            response["Body"].close()
        summary.status = SUCCEEDED
        summary.outputs = {
            "predictions": {
                "key": key.output,
                "etag": predictions.etag,
                "bytes": predictions.bytes_out,
                "rows": summary.rows.predicted,
            },
            "errors": {
                "key": key.errors,
                "etag": errors.etag,
                "bytes": errors.bytes_out,
                "rows": summary.rows.failed,
            },
        }
        summary.duration_seconds = time.perf_counter() - clock
        self._put_summary(ref.bucket, key.summary, summary)
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

    # ---------------------------------------------------------------- S3
    def _get(self, ref: InputRef) -> dict[str, Any]:
        args: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            args["VersionId"] = ref.version_id
        if ref.etag:
            args["IfMatch"] = f'"{ref.etag.strip(chr(34))}"'
        response: dict[str, Any] = self.s3.get_object(**args)
        return response

    def _replaced_since(self, ref: InputRef, etag: str | None) -> str | None:
        """Why our results must not be published (None: the input is still what we read)."""
        try:
            head = self.s3.head_object(Bucket=ref.bucket, Key=ref.key)
        except ClientError as exc:
            return _skippable(exc)
        if etag and str(head.get("ETag", "")).strip('"') != etag:
            return "stale event: the object was replaced while it was processed"
        return None

    def _already_done(self, ref: InputRef, key: BatchKey, model: OnnxModel) -> bool:
        """A succeeded summary for this exact input version, with its outputs in place."""
        if not ref.etag and not ref.version_id:
            return False
        try:
            raw = self.s3.get_object(Bucket=ref.bucket, Key=key.summary)["Body"].read()
            previous = orjson.loads(raw)
            if previous.get("status") != SUCCEEDED:
                return False
            source, used = previous.get("input", {}), previous.get("model", {})
            same_input = (not ref.etag or source.get("etag") == ref.etag.strip('"')) and (
                not ref.version_id or source.get("version_id") == ref.version_id
            )
            same_model = used.get("name") == model.name and used.get("version") == model.version
            if not (same_input and same_model):
                return False
            for output in previous.get("outputs", {}).values():
                head = self.s3.head_object(Bucket=ref.bucket, Key=output["key"])
                if str(head.get("ETag", "")).strip('"') != output.get("etag"):
                    return False
            return True
        except ClientError as exc:
            if _code(exc) not in {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}:
                raise
            return False
        except (ValueError, KeyError, TypeError, AttributeError):
            return False  # an unreadable old summary is simply replaced

    def _put_summary(self, bucket: str, key: str, summary: Summary) -> None:
        self.s3.put_object(
            Bucket=bucket,
            Key=key,
            Body=orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n",
            ContentType="application/json",
        )

    def _fail(
        self,
        summary: Summary,
        summary_key: str,
        key: BatchKey | None,
        exc: BaseException,
        clock: float,
    ) -> Summary:
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
            self._put_summary(summary.bucket, summary_key, summary)
        except Exception:
            log.exception("could not write the failure summary s3://%s/%s", summary.bucket, key)
        return summary

    # ---------------------------------------------------------------- streaming
    def _stream(
        self,
        body: Any,
        key: BatchKey,
        model: OnnxModel,
        columns: OutputColumns,
        predictions: S3Upload,
        errors: S3Upload,
        summary: Summary,
    ) -> None:
        cfg = self.config
        chunks: Iterator[bytes] = body.iter_chunks(cfg.read_bytes)
        if key.gzip:
            chunks = gunzip(chunks, cfg.read_bytes)
        blocks = lines_blocks(
            chunks,
            cfg.block_bytes,
            quoted=key.format is Format.CSV,
            max_block_bytes=cfg.max_block_bytes,
            first_block_bytes=cfg.first_block_bytes,
        )
        first = next(blocks, None)
        if first is None:
            raise UnreadableInput("the input is empty")
        # `prepare` runs on this thread, `finish` on the model's worker thread.
        prepare: Callable[[Block], Any]
        finish: Callable[[Any], ParsedBlock]
        writer: Writer
        parser = None
        if key.format is Format.CSV:
            header, _, rest = first.data.partition(b"\n")
            layout = read_header(header, model.manifest.feature_names)
            reader = CsvReader(layout)
            prepare, finish, writer = reader.prepare, reader.finish, CsvWriter(layout, columns)
            parser = shared_parser() if cfg.parse_process else None
            if parser is not None:
                offloaded = OffloadedCsv(reader, parser)
                prepare, finish = offloaded.prepare, offloaded.finish
            if layout.has_header:
                first = Block(rest, first.first_line + 1)
        else:
            prepare, finish = JsonlReader(model.manifest.feature_names).parse, _same
            writer = JsonlWriter(columns)
        predictions.write(writer.header())

        # Output lines are formatted where there is spare time: next to the model when this
        # thread also parses, on this thread when a parser process does (the model's
        # thread is then the busiest, and formatting block i overlaps predicting i+1).
        format_later = parser is not None

        def predict(prepared: Any) -> tuple[ParsedBlock, Any]:
            parsed = finish(prepared)
            if not parsed.rows:
                return parsed, b""
            outputs = model.predict({model.manifest.inputs[0].name: parsed.features})
            return parsed, outputs if format_later else writer.rows(parsed, outputs)

        def write(done: Future[tuple[ParsedBlock, Any]]) -> None:
            parsed, result = done.result()
            text = result if isinstance(result, bytes) else writer.rows(parsed, result)
            self._count(parsed, summary)
            if parsed.errors:
                errors.write(b"".join(orjson.dumps(e.to_json()) + b"\n" for e in parsed.errors))
            predictions.write(text)

        pending: deque[Future[tuple[ParsedBlock, Any]]] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict") as pool:
            try:
                for block in _chain(first, blocks):
                    self._check_deadline(summary)
                    pending.append(pool.submit(predict, prepare(block)))
                    while len(pending) > cfg.read_ahead or (pending and pending[0].done()):
                        write(pending.popleft())
                while pending:
                    write(pending.popleft())
            finally:
                for future in pending:
                    future.cancel()

    @staticmethod
    def _count(parsed: ParsedBlock, summary: Summary) -> None:
        rows = summary.rows
        rows.predicted += parsed.rows
        rows.failed += len(parsed.errors)
        rows.read += parsed.rows + len(parsed.errors)
        rows.blank_lines += parsed.blank_lines

    def _check_deadline(self, summary: Summary) -> None:
        if self.remaining_seconds is None:
            return
        if self.remaining_seconds() < self.config.stop_margin_seconds:
            raise JobTimeout(
                f"stopped after {summary.rows.read:,} rows: the invocation was about to time "
                "out. Split the input into smaller files, or raise the function's timeout "
                "or memory (more vCPUs)."
            )


def _same(parsed: ParsedBlock) -> ParsedBlock:
    return parsed


def _chain(first: Block, rest: Iterator[Block]) -> Iterator[Block]:
    yield first
    yield from rest


def _close_body(getting: Future[dict[str, Any]]) -> None:
    """Drop a GET that turned out not to be needed (or failed: nothing to drop)."""
    with contextlib.suppress(Exception):  # whatever went wrong, there is nothing to release
        getting.result()["Body"].close()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _skippable(exc: ClientError) -> str | None:
    """Why a failed GET means "nothing to do" rather than a failure (None: a failure)."""
    code = _code(exc)
    if code in {"PreconditionFailed", "412"}:
        return "stale event: the object has been replaced since (a newer event covers it)"
    if code in {"NoSuchKey", "404", "NoSuchVersion"}:
        return "the object no longer exists"
    return None
