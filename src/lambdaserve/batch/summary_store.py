"""Summaries in the bucket: written last by every run, read first to spot a repeated event.

A run is a repeat when the summary already there says `succeeded` for this exact input
version and model version, and the outputs it names still carry the ETags it recorded.
"""

from __future__ import annotations

from typing import Any

import orjson
from botocore.exceptions import ClientError

from lambdaserve.batch.source import InputRef, error_code
from lambdaserve.batch.summary import SUCCEEDED, Summary


class SummaryStore:
    def __init__(self, s3: Any, bucket: str) -> None:
        self.s3 = s3
        self.bucket = bucket

    def write(self, key: str, summary: Summary) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n",
            ContentType="application/json",
        )

    def already_done(self, key: str, ref: InputRef, model: str, version: str) -> bool:
        """The summary at `key` vouches for complete results of this input and model."""
        if not ref.etag and not ref.version_id:
            return False  # nothing pins the input version: it may be new
        try:
            previous = orjson.loads(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())
            if previous.get("status") != SUCCEEDED:
                return False
            source, used = previous.get("input", {}), previous.get("model", {})
            same_input = (not ref.etag or source.get("etag") == ref.etag.strip('"')) and (
                not ref.version_id or source.get("version_id") == ref.version_id
            )
            same_model = used.get("name") == model and used.get("version") == version
            if not (same_input and same_model):
                return False
            for output in previous.get("outputs", {}).values():
                head = self.s3.head_object(Bucket=self.bucket, Key=output["key"])
                if str(head.get("ETag", "")).strip('"') != output.get("etag"):
                    return False
            return True
        except ClientError as exc:
            if error_code(exc) not in {"NoSuchKey", "404", "NotFound", "AccessDenied", "403"}:
                raise
            return False
        except (ValueError, KeyError, TypeError, AttributeError):
            return False  # an unreadable old summary is simply replaced
