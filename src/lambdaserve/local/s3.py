"""Local S3: moto's real S3 server on loopback, plus the bucket notifications moto cannot send.

moto's server stores objects but does not call Lambda, so a poller lists each trigger's
prefix twice a second and, for every new or changed object (key + ETag) that passes the
event's prefix/suffix filter, builds the S3 `ObjectCreated:Put` event Lambda receives and
invokes the function asynchronously, as S3 does. Objects present before start are skipped.

The banner's upload example uses a sample S3 event of the project (events/*.json) whose key
a trigger takes, and the sample object beside the events: events/objects/<key's file name>.
"""

from __future__ import annotations

import json
import shlex
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample, shown_path
from lambdaserve.local.server import start_moto
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.template import S3Trigger, Template
from lambdaserve.observability.local_capture import CaptureShipper

POLL_SECONDS = 0.5
Notify = Callable[[str, str], None]  # (function logical id, message)


def s3_event(
    bucket: str, key: str, size: int, etag: str, region: str, event_name: str = "Put"
) -> dict[str, Any]:
    """The S3 notification record Lambda delivers (keys are URL-encoded as S3 does)."""
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": stamp,
                "eventName": f"ObjectCreated:{event_name}",
                "userIdentity": {"principalId": "AWS:LOCAL"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "lambdaserve-local",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "LOCAL"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": quote_plus(key, safe="/"),
                        "size": size,
                        "eTag": etag,
                        "sequencer": f"{int(now * 1e6):016X}",
                    },
                },
            }
        ]
    }


class LocalS3:
    """moto's S3 server with the template's buckets, and the notifier feeding the triggers."""

    def __init__(self, template: Template, host: str = "127.0.0.1", port: int = 0) -> None:
        self.template = template
        self._server, self.endpoint = start_moto(host, port, "local S3", "--s3-port")
        self.client = self._client()
        for name in template.buckets.values():
            self.client.create_bucket(Bucket=name)

    def _client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def stop(self) -> None:
        self._server.stop()


class Notifier:
    """Polls the triggers' prefixes and invokes each function once per new object version."""

    def __init__(
        self,
        s3: LocalS3,
        triggers: Iterable[S3Trigger],
        invoke: Callable[[str, dict[str, Any]], object],
        notify: Notify | None = None,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.s3 = s3
        self.triggers = list(triggers)
        self.invoke = invoke
        self.notify = notify
        self.interval = interval
        self._seen: set[tuple[str, str, str]] = set()
        self._scans = 0
        self._scanned = threading.Condition()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="s3-event")
        self._scan(deliver=False)  # what is already there does not trigger anything
        self._thread = threading.Thread(target=self._loop, name="s3-notifier", daemon=True)
        self._thread.start()

    def _objects(self, bucket: str, prefix: str) -> Iterable[dict[str, Any]]:
        paginator = self.s3.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            yield from page.get("Contents", [])

    def _scan(self, deliver: bool = True) -> None:
        for trigger in self.triggers:
            bucket = self.s3.template.buckets[trigger.bucket]
            for obj in self._objects(bucket, trigger.prefix):
                key, etag = str(obj["Key"]), str(obj.get("ETag", "")).strip('"')
                marker = (trigger.function, f"{bucket}/{key}", etag)
                if marker in self._seen or not trigger.matches(key):
                    continue
                self._seen.add(marker)
                if deliver:
                    event = s3_event(
                        bucket, key, int(obj.get("Size", 0)), etag, self.s3.template.region
                    )
                    if self.notify:
                        self.notify(trigger.function, f"S3 ObjectCreated:Put s3://{bucket}/{key}")
                    self._pool.submit(self.invoke, trigger.function, event)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self._scan()
            except Exception as exc:  # the server may be stopping; keep polling until told
                if not self._stop.is_set() and self.notify:
                    self.notify("s3", f"notification poll failed: {exc}")
            with self._scanned:
                self._scans += 1
                self._scanned.notify_all()

    def wait_scans(self, count: int, timeout: float = 30) -> bool:
        """Block until `count` more polls have finished (so anything uploaded before this
        call has been seen and, if it matched, handed to `invoke`)."""
        with self._scanned:
            target = self._scans + count
            return self._scanned.wait_for(lambda: self._scans >= target, timeout)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)


def _sample_keys(samples: list[Sample]) -> list[tuple[str, Sample]]:
    """(object key, sample) of every sample S3 event."""
    found = []
    for sample in samples:
        for record in sample.event.get("Records") or []:
            if isinstance(record, dict) and record.get("eventSource") == "aws:s3":
                key = ((record.get("s3") or {}).get("object") or {}).get("key")
                if isinstance(key, str):
                    found.append((unquote_plus(key), sample))
    return found


MODEL_STORE = "ModelStoreBucket"  # the template's bucket of S3-stored models


def publish_stored_models(template: Template, client: Any) -> list[str]:
    """Put the S3-stored model versions in the local model store bucket, as publish-models
    does before a deploy, so `make serve` serves them the way Lambda does."""
    bucket = template.buckets.get(MODEL_STORE)
    if bucket is None:
        return []
    from lambdaserve.modelkit.project import Project
    from lambdaserve.modelkit.publish import publish_models

    project = Project.at(template.path.parent)
    if not project.models.is_dir():
        return []
    published = publish_models(project, bucket, client, report=lambda _: None)
    return published.uploaded + published.unchanged


class S3Service:
    """Local S3 with the template's buckets, notifying the S3-triggered functions."""

    def __init__(self, template: Template, options: ServeOptions) -> None:
        self.template = template
        self.s3 = LocalS3(template, options.host, options.s3_port)
        self.notifier: Notifier | None = None
        self.published = publish_stored_models(template, self.s3.client)

    @property
    def endpoints(self) -> Mapping[str, str]:
        return {"AWS_ENDPOINT_URL_S3": self.s3.endpoint}

    def describe(self) -> list[str]:
        lines = [f"  S3          {self.s3.endpoint}"]
        grouped: dict[tuple[str, str, str], list[str]] = {}
        for trigger in self.template.s3_triggers:
            bucket = self.template.buckets[trigger.bucket]
            grouped.setdefault((bucket, trigger.prefix, trigger.function), []).append(
                trigger.suffix
            )
        for (bucket, prefix, function), suffixes in grouped.items():
            ending = "" if suffixes == [""] else " ending " + ", ".join(s for s in suffixes if s)
            lines.append(f"              s3://{bucket}/{prefix}*{ending} -> {function}")
        return lines

    def examples(self, samples: list[Sample]) -> list[str]:
        aws = f"aws --endpoint-url {self.s3.endpoint} s3"
        commands: list[str] = []
        buckets: list[str] = []
        for trigger in self.template.s3_triggers:
            bucket = self.template.buckets[trigger.bucket]
            for key, sample in _sample_keys(samples):
                local = sample.path.parent / "objects" / PurePosixPath(key).name
                if trigger.matches(key) and local.is_file():
                    target = shlex.quote(f"s3://{bucket}/{key}")
                    commands.append(f"{aws} cp {shlex.quote(shown_path(local))} {target}")
                    break
            if bucket not in buckets:
                buckets.append(bucket)
            if commands:
                break
        commands.extend(f"{aws} ls --recursive s3://{bucket}/" for bucket in buckets)
        return commands

    def start(self, runtime: LocalLambda, log: Log) -> None:
        def deliver(function: str, event: dict[str, Any]) -> None:
            result = runtime.invoke(function, json.dumps(event).encode())
            if not result.ok:
                log(function, f"S3 event failed: {result.payload.decode()[:500]}")

        self.notifier = Notifier(self.s3, self.template.s3_triggers, deliver, log)
        # Data Capture lines land under capture/ of the triggers' bucket (the batch bucket),
        # where the template's Firehose stream writes them in AWS (README, Observability).
        bucket = self.template.buckets[self.template.s3_triggers[0].bucket]
        runtime.log_taps.append(CaptureShipper(self.s3.client, bucket))

    def stop(self) -> None:
        if self.notifier is not None:
            self.notifier.stop()
        self.s3.stop()


@service("S3")
def open_s3(template: Template, options: ServeOptions) -> S3Service | None:
    if not (template.s3_triggers and options.s3):
        return None
    return S3Service(template, options)
