"""Fixtures shared by every test: repository paths and the shipped model repository."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from lambdaserve.repository import ModelRepository

# Machines here are shared and noisy: no test may fail because something was slow.
settings.register_profile(
    "lambdaserve",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("lambdaserve")

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "layers" / "models"


@pytest.fixture
def lambda_event_loop() -> Iterator[None]:
    """Mangum runs the app on the thread's current event loop, as in Lambda's main thread;
    a test that ran before may have closed or cleared it (TestClient, asyncio.run)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield
    loop.close()
    asyncio.set_event_loop(asyncio.new_event_loop())


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def repository() -> ModelRepository:
    return ModelRepository(MODELS)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port: real HTTP, as the local runtime uses it."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


# ---------------------------------------------------------------- model store bucket (BYOM)
MODEL_STORE_BUCKET = "lambdaserve-model-store-test"


@pytest.fixture
def model_store_s3(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's S3 in-process with an empty model store bucket; yields an S3 client."""
    import boto3
    from moto import mock_aws

    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=MODEL_STORE_BUCKET)
        yield client


# ---------------------------------------------------------------- feedback table (observability)
FEEDBACK_TABLE = "lambdaserve-feedback-test"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)


@pytest.fixture
def feedback_table(aws_env: None) -> Iterator[str]:
    """An on-demand table keyed by inference_id with TTL on expires_at (as the template
    declares it), on moto in-process; yields its name."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(
            TableName=FEEDBACK_TABLE,
            AttributeDefinitions=[{"AttributeName": "inference_id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "inference_id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
        client.update_time_to_live(
            TableName=FEEDBACK_TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"},
        )
        yield FEEDBACK_TABLE
