"""`make serve`'s stand-in for the capture pipeline: capture lines -> local S3 `capture/`.

In AWS, a subscription filter and Firehose move each function's Data Capture lines to
`capture/<model>/<version>/yyyy/MM/dd/HH/` in the batch bucket. Locally, the runtime hands
every function log line to `CaptureShipper`, which stores each capture record as one
JSON Lines object under the same prefix of the local bucket, so the same queries and
tools work on both.
"""

from __future__ import annotations

import json
import logging
from typing import Any

log = logging.getLogger("lambdaserve.observability")

_MARK = '"eventVersion"'


def capture_key(record: dict[str, Any], function: str) -> str | None:
    """Where Firehose's partitioning would put `record`; None if it is not a capture record."""
    meta = record.get("eventMetadata")
    if (
        record.get("eventVersion") != "0"
        or "captureData" not in record
        or not isinstance(meta, dict)
    ):
        return None
    model, version, when = meta.get("model"), meta.get("modelVersion"), meta.get("inferenceTime")
    if not (isinstance(model, str) and isinstance(version, str) and isinstance(when, str)):
        return None
    # inferenceTime is 2026-11-29T18:17:09.319Z: the hour partition is its first 13 chars.
    hour = when[:13].replace("-", "/").replace("T", "/")
    return f"capture/{model}/{version}/{hour}/{function}-{meta.get('eventId', 'event')}.jsonl"


class CaptureShipper:
    """A log tap: `(function, line)` for every line a function writes."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def __call__(self, function: str, line: str) -> None:
        if not line.startswith("{") or _MARK not in line:
            return
        try:
            record = json.loads(line)
        except ValueError:
            return
        key = capture_key(record, function) if isinstance(record, dict) else None
        if key is None:
            return
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=(line + "\n").encode())
        except Exception as exc:  # local S3 stopped: never take the runtime down
            log.warning("capture record not stored in s3://%s/%s: %r", self.bucket, key, exc)
