"""The shared DynamoDB cache on moto: read-through, TTL, 400 KB rule, and failing tables."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import numpy as np
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from lambdaserve.cache.key import CacheKey, digest
from lambdaserve.cache.table import TTL_ATTRIBUTE, SharedTable, dynamodb_client

NAME = "lambdaserve-cache"
OUTPUTS = {"label": np.array([1], dtype=np.int64), "p": np.array([[0.2, 0.8]], dtype=np.float32)}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(
            TableName=NAME,
            KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "B"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb_client(0.5)


def k(raw: bytes) -> CacheKey:
    """A cache key whose input bytes are `raw`."""
    return ("m", "1", None, (("input", "<f4", (1,), raw),))


def test_put_then_get_round_trips(client: Any) -> None:
    shared = SharedTable(NAME, 60, lambda: client)
    assert shared.get(k(b"k" * 16)) is None
    assert shared.put(k(b"k" * 16), OUTPUTS)
    assert shared.flush()
    got = shared.get(k(b"k" * 16))
    assert got is not None
    assert got["label"].tolist() == [1] and got["p"].tobytes() == OUTPUTS["p"].tobytes()
    item = client.get_item(TableName=NAME, Key={"key": {"B": digest(k(b"k" * 16))}})["Item"]
    assert abs(int(item[TTL_ATTRIBUTE]["N"]) - (time.time() + 60)) < 5


def test_expired_items_are_never_served(client: Any) -> None:
    now = [1_000_000.0]
    shared = SharedTable(NAME, 30, lambda: client, clock=lambda: now[0])
    shared.put(k(b"k"), OUTPUTS)
    assert shared.flush()
    now[0] += 29
    assert shared.get(k(b"k")) is not None
    now[0] += 2  # DynamoDB deletes expired items only eventually: we must not serve them
    assert shared.get(k(b"k")) is None


def test_items_over_the_400_kb_limit_are_not_stored(client: Any) -> None:
    shared = SharedTable(NAME, 60, lambda: client)
    big = {"p": np.zeros((1, 110_000), dtype=np.float32)}  # 440 KB
    assert not shared.put(k(b"big"), big)
    just_under = {"p": np.zeros((1, 100_000), dtype=np.float32)}  # 400,000 B + header
    assert shared.put(k(b"ok"), just_under)
    assert shared.flush()
    assert shared.get(k(b"big")) is None and shared.get(k(b"ok")) is not None


def test_a_missing_table_pauses_the_cache_without_failing(client: Any) -> None:
    shared = SharedTable("no-such-table", 60, lambda: client, cooldown_seconds=60)
    assert shared.get(k(b"k")) is None
    assert not shared.available  # paused: the next requests do not even ask
    assert not shared.put(k(b"k"), OUTPUTS)


def throttle(**kwargs: Any) -> AWSResponse:
    body = (
        b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
        b'"message":"Rate of requests exceeds the allowed throughput."}'
    )
    return AWSResponse(kwargs["request"].url, 400, {"x-amzn-requestid": "x"}, _Raw(body))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self._body


def test_throttling_is_one_attempt_then_a_cool_down(client: Any) -> None:
    calls: list[str] = []

    def counting_throttle(**kwargs: Any) -> AWSResponse:
        calls.append(kwargs["event_name"])
        return throttle(**kwargs)

    client.meta.events.register("before-send.dynamodb", counting_throttle)
    shared = SharedTable(NAME, 60, lambda: client, cooldown_seconds=60)
    assert shared.get(k(b"k")) is None
    assert len(calls) == 1  # no retry storm: throttled once, given up at once
    assert shared.get(k(b"k")) is None
    assert len(calls) == 1  # cooling down: not asked again


def test_a_failing_write_is_not_retried_and_pauses(client: Any) -> None:
    calls: list[str] = []

    def counting_throttle(**kwargs: Any) -> AWSResponse:
        calls.append(kwargs["event_name"])
        return throttle(**kwargs)

    client.meta.events.register("before-send.dynamodb.PutItem", counting_throttle)
    shared = SharedTable(NAME, 60, lambda: client, cooldown_seconds=60)
    assert shared.put(k(b"k"), OUTPUTS)  # queued: the request never waits for the write
    assert shared.flush()
    assert calls == ["before-send.dynamodb.PutItem"]
    assert not shared.available
    assert not shared.put(k(b"k2"), OUTPUTS)  # cooling down: not even queued
    shared.refresh()  # e.g. after a SnapStart restore: a new client, the table asked again
    assert shared.available


def test_an_unreachable_endpoint_times_out_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv(
            "AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{silent.getsockname()[1]}"
        )
        shared = SharedTable(NAME, 60, lambda: dynamodb_client(0.2))
        assert shared.get(k(b"k")) is None
        assert not shared.available


def test_a_full_write_queue_drops_writes(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = SharedTable(NAME, 60, lambda: client, queue_size=1)
    monkeypatch.setattr(shared, "_ensure_writer", lambda: None)  # nobody drains the queue
    assert shared.put(k(b"a"), OUTPUTS)
    assert not shared.put(k(b"b"), OUTPUTS)
    assert shared.dropped_writes == 1
