"""The shared cache: one DynamoDB table, read through after the LRU by every container.

It must never fail or noticeably slow a request: one attempt with short timeouts (no
retry storm under throttling), and after any error the table is skipped for a cool-down
while predictions are computed as misses; writes go to a bounded background queue (a
full queue drops the write). Items above DynamoDB's 400 KB limit are not stored, and
expired items, which DynamoDB's TTL deletes only eventually, are never served.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from lambdaserve import aws_clients
from lambdaserve.cache.key import CacheKey, digest
from lambdaserve.cache.serialize import pack, unpack

log = logging.getLogger(__name__)

ITEM_LIMIT_BYTES = 400 * 1024  # DynamoDB's item size limit, names and values together
KEY_ATTRIBUTE = "key"
VALUE_ATTRIBUTE = "outputs"
TTL_ATTRIBUTE = "expires_at"  # the table's TimeToLiveSpecification names it (template.yaml)
_ITEM_OVERHEAD = len(KEY_ATTRIBUTE) + len(VALUE_ATTRIBUTE) + len(TTL_ATTRIBUTE) + 64


def dynamodb_client(timeout_seconds: float) -> Any:
    """A client that tries once and gives up fast; boto3 is imported only when enabled."""
    return aws_clients.bounded("dynamodb", timeout_seconds)


class SharedTable:
    def __init__(
        self,
        table_name: str,
        ttl_seconds: float,
        client_factory: Callable[[], Any],
        *,
        cooldown_seconds: float = 30.0,
        queue_size: int = 64,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table_name = table_name
        self.ttl_seconds = ttl_seconds
        self.cooldown_seconds = cooldown_seconds
        self._client_factory = client_factory
        self._client = client_factory()  # at init, where Lambda's CPU boost pays for it
        self._clock = clock
        self._paused_until = 0.0  # time.monotonic() before which the table is not asked
        self._writes: queue.Queue[tuple[bytes, bytes, int] | None] = queue.Queue(queue_size)
        self._writer: threading.Thread | None = None
        self.dropped_writes = 0

    def refresh(self) -> None:
        """A new client, e.g. after a SnapStart restore (the old one holds init's credentials)."""
        self._client = self._client_factory()
        self._paused_until = 0.0

    @property
    def available(self) -> bool:
        return time.monotonic() >= self._paused_until

    def get(self, cache_key: CacheKey) -> dict[str, np.ndarray] | None:
        if not self.available:
            return None
        key = digest(cache_key)
        try:
            reply = self._client.get_item(
                TableName=self.table_name,
                Key={KEY_ATTRIBUTE: {"B": key}},
                ProjectionExpression="#v, #t",
                ExpressionAttributeNames={"#v": VALUE_ATTRIBUTE, "#t": TTL_ATTRIBUTE},
            )
        except Exception as exc:  # botocore's errors, timeouts and throttling alike
            self._pause("read", exc)
            return None
        item = reply.get("Item")
        if not item:
            return None
        try:
            if int(item[TTL_ATTRIBUTE]["N"]) <= self._clock():
                return None
            return unpack(item[VALUE_ATTRIBUTE]["B"])
        except (KeyError, ValueError) as exc:
            log.warning("cache table item %s unreadable, ignored: %s", key.hex(), exc)
            return None

    def put(self, cache_key: CacheKey, outputs: Mapping[str, np.ndarray]) -> bool:
        """Queue a write; False when it is not stored (too big, table paused, queue full)."""
        if not self.available:
            return False
        key = digest(cache_key)
        blob = pack(outputs)
        if len(blob) + len(key) + _ITEM_OVERHEAD > ITEM_LIMIT_BYTES:
            log.debug("prediction of %d bytes exceeds DynamoDB's item limit: not shared", len(blob))
            return False
        self._ensure_writer()
        try:
            self._writes.put_nowait((key, blob, int(self._clock() + self.ttl_seconds)))
        except queue.Full:
            self.dropped_writes += 1
            return False
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued writes are done (tests, and before a container freezes)."""
        deadline = time.monotonic() + timeout
        while self._writes.unfinished_tasks:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def _ensure_writer(self) -> None:
        if self._writer is None or not self._writer.is_alive():
            self._writer = threading.Thread(
                target=self._write_loop, name="cache-table-writer", daemon=True
            )
            self._writer.start()

    def _write_loop(self) -> None:
        while True:
            job = self._writes.get()
            try:
                if job is None:
                    return
                if not self.available:
                    continue
                key, blob, expires_at = job
                self._client.put_item(
                    TableName=self.table_name,
                    Item={
                        KEY_ATTRIBUTE: {"B": key},
                        VALUE_ATTRIBUTE: {"B": blob},
                        TTL_ATTRIBUTE: {"N": str(expires_at)},
                    },
                )
            except Exception as exc:
                self._pause("write", exc)
            finally:
                self._writes.task_done()

    def _pause(self, what: str, exc: Exception) -> None:
        self._paused_until = time.monotonic() + self.cooldown_seconds
        response = getattr(exc, "response", None)  # ClientError's parsed reply; else absent
        error = response.get("Error", {}) if isinstance(response, dict) else {}
        code = error.get("Code") or type(exc).__name__
        log.warning(
            "cache table %s %s failed (%s): predictions are computed; table skipped for %.0f s",
            self.table_name,
            what,
            code,
            self.cooldown_seconds,
        )
