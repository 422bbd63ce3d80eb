"""boto3 clients for calls on or beside the request path: bounded, and imported on use.

The shared cache, the feedback table and the traffic override all call AWS where a slow or
failing service must cost a request little: `bounded(service, seconds)` tries once with
short connect and read timeouts (the caller logs and carries on); `patient(service)` keeps
the SDK's default timeouts with a few standard-mode retries, for work off the request path.
boto3 is imported here, when a client is first made: a model function that uses none of
these never imports it (~0.2 s of a cold start).
"""

from __future__ import annotations

from typing import Any


def bounded(service: str, timeout_seconds: float) -> Any:
    """One attempt, `timeout_seconds` to connect and as long to read; connections kept."""
    from botocore.config import Config

    return _client(
        service,
        Config(
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
            retries={"total_max_attempts": 1, "mode": "standard"},
            tcp_keepalive=True,
        ),
    )


def patient(service: str, attempts: int = 3) -> Any:
    from botocore.config import Config

    return _client(service, Config(retries={"total_max_attempts": attempts, "mode": "standard"}))


def _client(service: str, config: Any) -> Any:
    import boto3

    make: Any = boto3.client  # typed per service name; any of ours will do
    return make(service, config=config)
