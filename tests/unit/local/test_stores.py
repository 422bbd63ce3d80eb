"""Local SSM parameters and DynamoDB tables on moto, and a real model function following a
traffic override changed with the banner's command."""

from __future__ import annotations

import json
import shlex
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from lambdaserve.local import template
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.services import ServeOptions
from lambdaserve.local.stores import StoresService
from lambdaserve.traffic.policy import parse_policy

pytestmark = pytest.mark.slow  # moto server and a model function process

ROOT = Path(__file__).resolve().parents[3]
EVENT = ROOT / "events" / "api" / "breast_cancer_predict.json"


@pytest.fixture
def stores() -> Iterator[StoresService]:
    tpl = template.load(
        ROOT / "template.yaml", parameters={"SharedCache": "Enabled", "FeedbackEnabled": "true"}
    )
    service = StoresService(tpl, ServeOptions(stores_port=0))
    yield service
    service.stop()


def _client(service: StoresService, name: str) -> object:
    return boto3.client(
        name,
        endpoint_url=service.stores.endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def test_the_templates_parameters_and_tables_exist_with_their_declared_values(
    stores: StoresService,
) -> None:
    ssm = _client(stores, "ssm")
    for name, value in stores.template.ssm_parameters.items():
        assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == value  # type: ignore[attr-defined]
    dynamodb = _client(stores, "dynamodb")
    assert sorted(dynamodb.list_tables()["TableNames"]) == ["FeedbackTable", "PredictionCacheTable"]  # type: ignore[attr-defined]
    ttl = dynamodb.describe_time_to_live(TableName="PredictionCacheTable")  # type: ignore[attr-defined]
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert stores.endpoints == {
        "AWS_ENDPOINT_URL_SSM": stores.stores.endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": stores.stores.endpoint,
    }
    described = "\n".join(stores.describe())
    assert "/lambdaserve/lambdaserve/iris/traffic" in described and "FeedbackTable" in described


def test_the_banner_example_is_a_valid_override_of_a_model_with_two_versions(
    stores: StoresService,
) -> None:
    (command,) = stores.examples([])
    words = shlex.split(command)
    name = words[words.index("--name") + 1]
    value = json.loads(words[words.index("--value") + 1])
    assert name == "/lambdaserve/lambdaserve/breast_cancer/traffic"  # the one with versions 1, 2
    policy = parse_policy("breast_cancer", value, ["1", "2"], {}, "2", where=name)
    assert dict(policy.split) == {"1": 50, "2": 50}


def _versions_answering(runtime: LocalLambda, event: bytes, count: int) -> set[str]:
    answered = set()
    for _ in range(count):
        result = runtime.invoke("BreastCancerFunction", event)
        assert result.ok, result.payload
        response = json.loads(result.payload)
        assert response["statusCode"] == 200, response
        answered.add(response["headers"]["x-model-version"])
    return answered


def test_a_model_function_follows_an_override_put_with_the_cli_within_its_ttl(
    stores: StoresService,
) -> None:
    tpl = stores.template
    runtime = LocalLambda(
        tpl,
        endpoints=stores.endpoints,
        env_overrides={"Parameters": {"LAMBDASERVE_TRAFFIC_TTL_SECONDS": "1"}},
    )
    try:
        event = EVENT.read_bytes()
        # traffic.json's 90/10 split: 40 draws see version 1 (and 2 with 98.5% probability).
        assert "1" in _versions_answering(runtime, event, 40)
        name = "/lambdaserve/lambdaserve/breast_cancer/traffic"
        override = json.dumps({"split": {"2": 100}})
        _client(stores, "ssm").put_parameter(Name=name, Value=override, Overwrite=True)  # type: ignore[attr-defined]
        deadline = time.monotonic() + 30  # TTL 1 s; generous for a loaded machine
        while _versions_answering(runtime, event, 5) != {"2"}:
            assert time.monotonic() < deadline, "the override never took effect"
            time.sleep(0.5)
    finally:
        runtime.close()
