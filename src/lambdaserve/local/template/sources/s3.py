"""`Type: S3` events: object notifications of a bucket of the template, with key filters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template.intrinsics import BUCKET
from lambdaserve.local.template.sources import EventContext, source


@dataclass(frozen=True)
class S3Trigger:
    """Object events in a bucket, filtered by key prefix and suffix (case-sensitive, as S3)."""

    function: str
    bucket: str  # logical id of the bucket resource
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, key: str, event_name: str = "s3:ObjectCreated:Put") -> bool:
        wanted = any(
            event_name == e or (e.endswith(":*") and event_name.startswith(e[:-1]))
            for e in self.events
        )
        return wanted and key.startswith(self.prefix) and key.endswith(self.suffix)


@source("S3")
def parse(props: Mapping[str, Any], event: EventContext) -> S3Trigger:
    bucket = props.get("Bucket")
    resources = event.resolver.resources
    if not (isinstance(bucket, dict) and "Ref" in bucket):
        raise LocalError(f"{event.where}: Bucket must be !Ref to a bucket of this template")
    if (resources.get(bucket["Ref"]) or {}).get("Type") != BUCKET:
        raise LocalError(
            f"{event.function}: S3 event bucket {bucket['Ref']} is not an AWS::S3::Bucket of "
            "this template"
        )
    raw_events = event.resolver.resolve(props.get("Events", []), event.where)
    rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
    filters = {
        str(r.get("Name", "")).lower(): str(event.resolver.resolve(r.get("Value", ""), event.where))
        for r in rules
    }
    return S3Trigger(
        function=event.function,
        bucket=str(bucket["Ref"]),
        events=tuple([raw_events] if isinstance(raw_events, str) else raw_events),
        prefix=filters.get("prefix", ""),
        suffix=filters.get("suffix", ""),
    )
