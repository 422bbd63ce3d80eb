"""`Type: S3` events."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import LocalError

from ..texts import FUNCTION, write


def test_s3_trigger_filters_and_local_bucket_name(tmp_path: Path) -> None:
    text = f"""
Resources:
  Data:
    Type: AWS::S3::Bucket
{FUNCTION}      Environment:
        Variables:
          BUCKET: !Ref Data
          BUCKET_ARN: !GetAtt Data.Arn
          ME: !GetAtt Fn.Arn
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Data
            Events: s3:ObjectCreated:*
            Filter:
              S3Key:
                Rules:
                  - {{Name: prefix, Value: incoming/}}
                  - {{Name: suffix, Value: .csv}}
"""
    loaded = template.load(write(tmp_path, text), stack="demo")
    assert loaded.buckets == {"Data": "demo-data"}
    env = loaded.function("Fn").environment
    assert env["BUCKET"] == "demo-data"
    assert env["BUCKET_ARN"] == "arn:aws:s3:::demo-data"
    assert env["ME"].endswith(":function:Fn")
    (trigger,) = loaded.s3_triggers
    assert (trigger.function, trigger.bucket, trigger.prefix, trigger.suffix) == (
        "Fn",
        "Data",
        "incoming/",
        ".csv",
    )
    assert trigger.matches("incoming/iris/a.csv")
    assert not trigger.matches("results/iris/a.csv")
    assert not trigger.matches("incoming/iris/a.json")
    assert not trigger.matches("incoming/a.csv", "s3:ObjectRemoved:Delete")


def test_bucket_must_be_a_bucket_of_the_template(tmp_path: Path) -> None:
    text = f"""
Resources:
  Queue:
    Type: AWS::SQS::Queue
{FUNCTION}      Events:
        Upload: {{Type: S3, Properties: {{Bucket: !Ref Queue, Events: s3:ObjectCreated:*}}}}
"""
    with pytest.raises(LocalError, match="Queue is not an AWS::S3::Bucket"):
        template.load(write(tmp_path, text))
    text = text.replace("!Ref Queue", "some-bucket")
    with pytest.raises(LocalError, match="Bucket must be !Ref"):
        template.load(write(tmp_path, text))
