"""Where a batch's results go: today two S3 objects written by multipart upload.

A `Sink` receives each block's output lines and bad rows in input order, and makes
them visible all at once (`publish`) or not at all (`discard`). A queue is the next
sink: one result message per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson

from lambdaserve.batch.blocks import RowError
from lambdaserve.batch.multipart import S3Upload


class Sink(Protocol):
    def write(self, lines: bytes, rows: int, errors: Sequence[RowError]) -> None:
        """One block's output `lines` (`rows` predictions) and its bad rows, or the
        output's header line (0 rows)."""
        ...

    def publish(self) -> dict[str, dict[str, Any]]:
        """Make everything written visible; what was published, for the summary."""
        ...

    def discard(self) -> None:
        """Drop everything written; safe at any point, and twice."""
        ...


class S3MultipartSink:
    """The predictions object and the errors object (JSON Lines, one bad row a line).

    Both are multipart uploads, invisible until `publish` completes them: the errors
    object first, so predictions never appear without their errors.
    """

    def __init__(
        self,
        s3: Any,
        bucket: str,
        *,
        predictions_key: str,
        errors_key: str,
        content_type: str,
        part_bytes: int,
        gzip: bool = False,
    ) -> None:
        self.predictions = S3Upload(
            s3,
            bucket,
            predictions_key,
            part_bytes=part_bytes,
            content_type="application/gzip" if gzip else content_type,
            gzip=gzip,
        )
        self.errors = S3Upload(
            s3, bucket, errors_key, part_bytes=part_bytes, content_type="application/x-ndjson"
        )
        self.predicted_rows = 0
        self.failed_rows = 0

    def write(self, lines: bytes, rows: int, errors: Sequence[RowError]) -> None:
        if errors:
            self.errors.write(b"".join(orjson.dumps(e.to_json()) + b"\n" for e in errors))
            self.failed_rows += len(errors)
        self.predictions.write(lines)
        self.predicted_rows += rows

    def publish(self) -> dict[str, dict[str, Any]]:
        self.errors.complete()
        self.predictions.complete()
        return {
            "predictions": _described(self.predictions, self.predicted_rows),
            "errors": _described(self.errors, self.failed_rows),
        }

    def discard(self) -> None:
        self.predictions.abort()
        self.errors.abort()


def _described(upload: S3Upload, rows: int) -> dict[str, Any]:
    return {"key": upload.key, "etag": upload.etag, "bytes": upload.bytes_out, "rows": rows}
