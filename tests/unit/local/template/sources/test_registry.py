"""The event source registry: each Type's parser, unknown types kept by name."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.local import template
from lambdaserve.local.template import sources

TEXT = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      CodeUri: .
      Handler: app.handler
      Events:
        Api: {Type: HttpApi, Properties: {Path: /a, Method: GET}}
        Queue: {Type: MQ, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 10}}
  Q:
    Type: AWS::AmazonMQ::Broker
"""


@dataclass(frozen=True)
class QueueSource:
    function: str
    queue: str
    batch_size: int


@pytest.fixture
def sqs_registered() -> Iterator[None]:
    @sources.source("MQ")
    def parse(props: Mapping[str, Any], event: sources.EventContext) -> QueueSource:
        queue = str(event.resolver.resolve(props["Queue"], event.where))
        return QueueSource(event.function, queue, int(props.get("BatchSize", 10)))

    yield
    del sources.REGISTRY["MQ"]


def test_the_shipped_types() -> None:
    assert {"HttpApi", "S3", "SQS", "Kinesis"} <= set(sources.REGISTRY)


def test_a_type_without_parser_is_kept_as_unsupported(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEXT)
    loaded = template.load(tmp_path / "template.yaml")
    assert [r.key for r in loaded.routes] == ["GET /a"]
    assert loaded.unsupported_events == [sources.Unsupported("Fn", "Queue", "MQ")]


def test_a_registered_type_is_parsed_and_found_by_its_record_type(
    tmp_path: Path, sqs_registered: None
) -> None:
    (tmp_path / "template.yaml").write_text(TEXT)
    loaded = template.load(tmp_path / "template.yaml")
    assert loaded.unsupported_events == []
    (queue,) = loaded.sources(QueueSource)
    assert queue == QueueSource("Fn", "arn:aws:local:us-east-1:123456789012:Q", 10)
    assert loaded.function("Fn").sources(QueueSource) == [queue]
