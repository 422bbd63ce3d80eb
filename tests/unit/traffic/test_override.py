"""The SSM override: read through a TTL cache, on moto; failures keep the last good value."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdaserve.traffic.override import ParameterOverride

NAME = "/lambdaserve/test/breast_cancer/traffic"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("ssm")


def put(ssm: Any, value: str) -> None:
    ssm.put_parameter(Name=NAME, Value=value, Type="String", Overwrite=True)


def test_a_changed_value_takes_effect_within_the_ttl(ssm: Any) -> None:
    put(ssm, '{"split": {"1": 100}}')
    clock = Clock()
    override = ParameterOverride(NAME, ttl_seconds=5, clock=clock, background=False)
    assert override.current() == {"split": {"1": 100}}
    put(ssm, '{"split": {"2": 100}}')
    clock.now += 4.9
    assert override.current() == {"split": {"1": 100}}  # cached inside the TTL
    clock.now += 0.1
    assert override.current() == {"split": {"2": 100}}


def test_missing_parameter_means_no_override(ssm: Any) -> None:
    assert ParameterOverride(NAME, 5, background=False).current() == {}


def test_the_client_is_created_on_first_use(ssm: Any) -> None:
    made: list[object] = []

    def factory() -> Any:
        made.append(object())
        return boto3.client("ssm")

    clock = Clock()
    override = ParameterOverride(NAME, 5, clock=clock, client_factory=factory, background=False)
    assert made == []
    put(ssm, "{}")
    override.current()
    clock.now += 10
    override.current()
    assert len(made) == 1


def test_unreadable_parameter_keeps_the_last_value_and_logs(
    ssm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    put(ssm, '{"split": {"2": 100}}')
    clock = Clock()
    calls = {"n": 0}

    class Flaky:
        def get_parameter(self, Name: str) -> Any:
            calls["n"] += 1
            if calls["n"] > 1:
                raise ConnectionError("ssm endpoint unreachable")
            return ssm.get_parameter(Name=Name)

    override = ParameterOverride(NAME, 5, clock=clock, client_factory=Flaky, background=False)
    assert override.current() == {"split": {"2": 100}}
    clock.now += 5
    with caplog.at_level(logging.ERROR, "lambdaserve.traffic"):
        assert override.current() == {"split": {"2": 100}}
    assert "unreachable" in caplog.text and NAME in caplog.text
    clock.now += 1
    assert override.current() == {"split": {"2": 100}}
    assert calls["n"] == 2  # a failure waits out the TTL too: no retry storm
    caplog.clear()
    clock.now += 5
    with caplog.at_level(logging.ERROR, "lambdaserve.traffic"):
        assert override.current() == {"split": {"2": 100}}
    assert calls["n"] == 3 and caplog.text == ""  # still failing: logged once, not per TTL


def test_no_credentials_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")  # nothing listens
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    with caplog.at_level(logging.ERROR, "lambdaserve.traffic"):
        assert ParameterOverride(NAME, 5, background=False).current() == {}
    assert "unreadable" in caplog.text


def test_a_value_that_is_not_json_is_ignored(ssm: Any, caplog: pytest.LogCaptureFixture) -> None:
    put(ssm, "split 1=100")
    with caplog.at_level(logging.ERROR, "lambdaserve.traffic"):
        assert ParameterOverride(NAME, 5, background=False).current() == {}
    assert "not JSON" in caplog.text


def test_expire_reads_again_at_once(ssm: Any) -> None:
    put(ssm, '{"split": {"1": 1}}')
    override = ParameterOverride(NAME, 3600, background=False)
    override.current()
    put(ssm, '{"split": {"2": 1}}')
    override.expire()
    assert override.current() == {"split": {"2": 1}}


def test_background_reads_never_make_a_caller_wait(ssm: Any) -> None:
    put(ssm, '{"split": {"2": 100}}')
    release = threading.Event()

    class Slow:
        def get_parameter(self, Name: str) -> Any:
            release.wait(10)
            return ssm.get_parameter(Name=Name)

    clock = Clock()
    override = ParameterOverride(NAME, 5, clock=clock, client_factory=Slow)
    started = time.perf_counter()
    assert override.current() == {}  # the read is in flight: no override yet
    assert override.current() == {}  # and only one read is started
    assert time.perf_counter() - started < 1
    release.set()
    assert override.wait(10)
    assert override.current() == {"split": {"2": 100}}
    assert override.reads == 1
