"""The policy in force: traffic.json, the default, or a valid runtime override (moto SSM)."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambdaserve.errors import ModelLoadError
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY
from lambdaserve.traffic.policy import ShadowPolicy
from lambdaserve.traffic.source import policy_source

NAME = "/lambdaserve/test/breast_cancer/traffic"


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("ssm")
        client.put_parameter(Name=NAME, Value="{}", Type="String")
        yield client


def shipped() -> ModelRepository:
    return ModelRepository(SOURCE_MODEL_REPOSITORY)


def test_the_shipped_example_is_a_90_10_split_with_a_shadow() -> None:
    policy = policy_source(shipped(), "breast_cancer").current()
    assert policy.origin == "traffic.json"
    assert Counter(policy.table) == {"1": 9_000, "2": 1_000}
    assert policy.sticky_header == "x-user-id"
    assert policy.shadow == ShadowPolicy("2", 100.0, 50)


def test_a_model_without_traffic_json_sends_everything_to_its_default() -> None:
    policy = policy_source(shipped(), "iris").current()
    assert policy.origin == "default"
    assert set(policy.table) == {"1"}
    assert policy.sticky_header is None and policy.shadow is None


def test_a_malformed_traffic_json_stops_the_function_at_init(tmp_path: Path) -> None:
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "breast_cancer", tmp_path / "breast_cancer")
    (tmp_path / "breast_cancer" / "traffic.json").write_text('{"split": {"3": 100}}')
    with pytest.raises(ModelLoadError, match="'3', which is neither a version nor a label"):
        policy_source(ModelRepository(tmp_path), "breast_cancer")


def test_the_override_replaces_the_layer_policy_and_empty_means_none(ssm: Any) -> None:
    source = policy_source(shipped(), "breast_cancer", NAME, ttl_seconds=0, background=False)
    assert source.current().origin == "traffic.json"
    ssm.put_parameter(
        Name=NAME,
        Value=json.dumps({"split": {"stable": 50, "canary": 50}, "sticky_header": "x-user-id"}),
        Overwrite=True,
    )
    policy = source.current()
    assert policy.origin == NAME
    assert Counter(policy.table) == {"1": 5_000, "2": 5_000}
    assert policy.shadow is None  # the override is a whole policy, not a patch
    assert source.current() is policy  # the same value is not compiled again
    ssm.put_parameter(Name=NAME, Value="{}", Overwrite=True)
    assert source.current().origin == "traffic.json"


def test_a_bad_override_is_logged_and_the_layer_policy_stays(
    ssm: Any, caplog: pytest.LogCaptureFixture
) -> None:
    source = policy_source(shipped(), "breast_cancer", NAME, ttl_seconds=0, background=False)
    ssm.put_parameter(Name=NAME, Value='{"split": {"9": 100}}', Overwrite=True)
    with caplog.at_level(logging.ERROR, "lambdaserve.traffic"):
        assert source.current().origin == "traffic.json"
    assert f"traffic override {NAME} of model 'breast_cancer'" in caplog.text
    assert "'9', which is neither a version nor a label" in caplog.text


def test_headers_cover_the_layer_and_the_override_known_at_init(ssm: Any) -> None:
    ssm.put_parameter(Name=NAME, Value='{"sticky_header": "X-Account"}', Overwrite=True)
    source = policy_source(shipped(), "breast_cancer", NAME, ttl_seconds=60, background=False)
    assert source.headers() == ("x-account", "x-user-id")


def test_a_background_override_is_first_read_on_the_first_request_not_at_init(ssm: Any) -> None:
    ssm.put_parameter(Name=NAME, Value='{"split": {"canary": 100}}', Overwrite=True)
    source = policy_source(shipped(), "breast_cancer", NAME, ttl_seconds=60)
    assert source.override is not None
    # Init (the source, its selector's headers) starts no read: no boto3 in Init Duration.
    assert source.headers() == ("x-user-id",)
    assert source.override.reads == 0
    assert "traffic-override" not in {t.name for t in threading.enumerate()}
    assert source.current().origin == "traffic.json"  # the first request starts the read
    assert source.override.wait(10)
    assert source.override.reads == 1
    assert source.current().origin == NAME
