"""S3 event notification records -> the objects to process.

Keys arrive URL-encoded with `+` for spaces. Records for anything but an object created
under `incoming/` are skipped with a log line: in particular our own `results/` output,
so a misconfigured trigger can never make the function feed on itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from lambdaserve.batch.keys import INCOMING, is_output
from lambdaserve.batch.source import InputRef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Skipped:
    reason: str
    key: str | None = None


def object_refs(event: dict[str, Any]) -> tuple[list[InputRef], list[Skipped]]:
    refs: list[InputRef] = []
    skipped: list[Skipped] = []
    records = event.get("Records")
    if not isinstance(records, list):
        # e.g. the `s3:TestEvent` S3 sends when a notification is configured.
        skipped.append(Skipped(f"not an S3 notification (event {event.get('Event')!r})"))
        return refs, skipped
    for record in records:
        source = record.get("eventSource")
        name = str(record.get("eventName", ""))
        if source != "aws:s3" or not name.startswith("ObjectCreated:"):
            skipped.append(Skipped(f"not an S3 ObjectCreated record ({source} {name})"))
            continue
        s3 = record.get("s3", {})
        bucket = s3.get("bucket", {}).get("name")
        obj = s3.get("object", {})
        raw_key = obj.get("key")
        if not bucket or not raw_key:
            skipped.append(Skipped("S3 record without bucket name or object key"))
            continue
        key = unquote_plus(raw_key)
        if is_output(key):
            skipped.append(Skipped("output object: never processed (no recursion)", key))
            continue
        if not key.startswith(INCOMING):
            skipped.append(Skipped(f"not under {INCOMING!r}", key))
            continue
        refs.append(InputRef(bucket, key, obj.get("eTag") or None, obj.get("versionId") or None))
    for skip in skipped:
        log.warning("skipped record: %s%s", skip.reason, f" ({skip.key})" if skip.key else "")
    return refs, skipped
