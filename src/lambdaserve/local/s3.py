"""Local S3: moto's real S3 server on loopback, plus the bucket notifications moto cannot send.

moto's server stores objects but does not call Lambda, so a poller lists each trigger's
prefix twice a second and, for every new or changed object (key + ETag) that passes the
event's prefix/suffix filter, builds the S3 `ObjectCreated:Put` event Lambda receives and
invokes the function asynchronously, as S3 does. Objects present before start are skipped.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import quote_plus

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template import S3Trigger, Template

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


def _check_port(host: str, port: int) -> None:
    """ThreadedMotoServer would wait forever on a busy port: find out first."""
    if port == 0:
        return
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError:
        raise LocalError(
            f"port {port} on {host} is already in use, so local S3 cannot start; "
            "pick another with --s3-port PORT (0: any free port)"
        ) from None
    finally:
        probe.close()


class LocalS3:
    """moto's S3 server with the template's buckets, and the notifier feeding the triggers."""

    def __init__(self, template: Template, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer  # dev-only, heavy: imported on use

        _check_port(host, port)
        # werkzeug logs every request; the notifier alone polls twice a second.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.template = template
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_host, bound_port = self._server.get_host_and_port()
        self.endpoint = f"http://{bound_host}:{bound_port}"
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

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=False, cancel_futures=True)
