"""The two kinds of client: bounded (request path) and patient (off it)."""

from __future__ import annotations

import pytest

from lambdaserve import aws_clients


@pytest.fixture(autouse=True)
def _region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


def test_a_bounded_client_tries_once_with_short_timeouts() -> None:
    config = aws_clients.bounded("ssm", 0.3).meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.3, 0.3)
    assert config.retries["total_max_attempts"] == 1
    assert config.tcp_keepalive is True


def test_a_patient_client_retries_in_standard_mode() -> None:
    client = aws_clients.patient("dynamodb", attempts=4)
    assert client.meta.service_model.service_name == "dynamodb"
    assert client.meta.config.retries == {"total_max_attempts": 4, "mode": "standard"}
