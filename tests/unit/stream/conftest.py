"""A real dataplane over the shipped models, and SQS on moto's server, for the stream tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdaserve.dataplane import DataPlane, create_dataplane
from lambdaserve.settings import Settings

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def plane(models_dir: Path) -> DataPlane:
    return create_dataplane(Settings(model_repository=models_dir, metrics=False))


@pytest.fixture
def sqs(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", moto_endpoint)
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    return boto3.client("sqs")


@pytest.fixture
def queue(sqs: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh queue on moto's server, deleted afterwards; yields its URL."""
    url: str = sqs.create_queue(QueueName=f"out-{abs(hash(request.node.nodeid))}")["QueueUrl"]
    yield url
    sqs.delete_queue(QueueUrl=url)


def drain(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of the queue, in the order received, with its attributes."""
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not got:
            return found
        for message in got:
            found.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "stream" / f"{name}.json").read_text())
    return event
