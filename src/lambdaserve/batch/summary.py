"""The `<output>.summary.json` record: what ran, on which input version, and how it went.

It is written last. A consumer reads it first: `status` says whether the predictions and
errors objects it names (with their ETags) are complete results for the input ETag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"  # returned, never written: a repeated or stale event
DISPATCHED = "dispatched"  # returned, never written: handed to the fan-out state machine


@dataclass
class RowCounts:
    read: int = 0
    predicted: int = 0
    failed: int = 0
    blank_lines: int = 0


@dataclass
class Summary:
    bucket: str
    key: str
    status: str = FAILED
    model: str | None = None
    model_version: str | None = None
    format: str | None = None
    compression: str | None = None
    etag: str | None = None
    version_id: str | None = None
    size: int | None = None
    rows: RowCounts = field(default_factory=RowCounts)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    started_at: float = 0.0
    duration_seconds: float = 0.0
    request_id: str | None = None
    note: str | None = None  # why a run was skipped (never written)
    # A fanned-out job: shards, their durations, dispatch/compose overheads, cost estimate.
    fanout: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    def to_json(self) -> dict[str, Any]:
        seconds = self.duration_seconds
        record: dict[str, Any] = {
            "status": self.status,
            "input": {
                "bucket": self.bucket,
                "key": self.key,
                "etag": self.etag,
                "version_id": self.version_id,
                "size": self.size,
                "format": self.format,
                "compression": self.compression,
            },
            "model": {"name": self.model, "version": self.model_version},
            "rows": {
                "read": self.rows.read,
                "predicted": self.rows.predicted,
                "failed": self.rows.failed,
                "blank_lines": self.rows.blank_lines,
            },
            "outputs": self.outputs,
            "error": self.error,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.started_at + seconds),
            "duration_seconds": round(seconds, 3),
            "rows_per_second": round(self.rows.read / seconds) if seconds > 0 else None,
            "request_id": self.request_id,
        }
        if self.fanout is not None:
            record["fanout"] = self.fanout
        return record


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
