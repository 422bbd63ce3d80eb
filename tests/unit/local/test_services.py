"""The service registry: which local services a template needs, and their endpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import services, template

ROOT = Path(__file__).resolve().parents[3]
FREE = services.ServeOptions(port=0, lambda_port=0, s3_port=0, stores_port=0, sqs_port=0)


def test_registered_in_banner_order() -> None:
    assert services.registered()[:3] == ["HttpApi", "Lambda", "S3"]


def test_banner_order_does_not_depend_on_import_order(monkeypatch: pytest.MonkeyPatch) -> None:
    shuffled = dict(reversed(list(services.REGISTRY.items())))
    shuffled["Extra"] = services.REGISTRY["S3"]
    monkeypatch.setattr(services, "REGISTRY", shuffled)
    assert services.registered() == [*services.BANNER_ORDER, "Extra"]


def test_the_real_template_needs_every_service() -> None:
    real = template.load(ROOT / "template.yaml")
    opened = list(services.open_all(real, FREE))
    try:
        assert [type(s).__name__ for s in opened] == [
            "HttpApiService",
            "LambdaApiService",
            "S3Service",
            "QueueService",
            "StepFunctionsService",  # the batch fan-out state machine
            "StoresService",  # the traffic overrides' SSM parameters
        ]
        endpoints = {k: v for s in opened for k, v in s.endpoints.items()}
        assert set(endpoints) == {
            "AWS_ENDPOINT_URL_LAMBDA",
            "AWS_ENDPOINT_URL_S3",
            "AWS_ENDPOINT_URL_SFN",
            "AWS_ENDPOINT_URL_SSM",
            "AWS_ENDPOINT_URL_SQS",
            "AWS_ENDPOINT_URL_KINESIS",
            "AWS_ENDPOINT_URL_EVENTBRIDGE",
        }
        assert all(v.startswith("http://127.0.0.1:") for v in endpoints.values())
    finally:
        for service in opened:
            service.stop()


def test_only_what_a_template_uses(small_template: template.Template) -> None:
    """No S3 triggers: no S3 server; --no-s3 turns it off for any template."""
    opened = list(services.open_all(small_template, FREE))
    try:
        assert [type(s).__name__ for s in opened] == ["HttpApiService", "LambdaApiService"]
    finally:
        for service in opened:
            service.stop()
    real = template.load(ROOT / "template.yaml")
    no_s3 = services.ServeOptions(
        port=0, lambda_port=0, s3_port=0, stores_port=0, s3=False, sqs=False
    )
    opened = list(services.open_all(real, no_s3))
    try:
        assert {"S3Service", "QueueService"}.isdisjoint(type(s).__name__ for s in opened)
    finally:
        for service in opened:
            service.stop()
