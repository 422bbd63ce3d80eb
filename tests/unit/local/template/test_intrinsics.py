"""Intrinsic functions with local stand-ins for the resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import LocalError

from .texts import FUNCTION, write


def test_conditions_joins_and_stack_name_from_samconfig(tmp_path: Path) -> None:
    (tmp_path / "samconfig.toml").write_text(
        'version = 0.1\n[default.global.parameters]\nstack_name = "from-config"\n'
    )
    text = f"""
Parameters:
  Stage: {{Type: String, Default: dev}}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
{FUNCTION}      Environment:
        Variables:
          LEVEL: !If [IsProd, WARN, DEBUG]
          JOINED: !Join ["-", [a, !Ref "AWS::StackName", !Select [1, [x, y]]]]
          LITERAL: !Sub "${{!NotAVar}}-${{AWS::Region}}"
          FLAG: true
"""
    env = template.load(write(tmp_path, text), region="eu-west-1").function("Fn").environment
    assert env == {
        "LEVEL": "DEBUG",
        "JOINED": "a-from-config-y",
        "LITERAL": "${NotAVar}-eu-west-1",
        "FLAG": "true",
    }


def test_resolver_names_resources_locally() -> None:
    doc = {
        "Resources": {
            "Data": {"Type": "AWS::S3::Bucket"},
            "Named": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "My-Bucket"}},
            "Lib": {"Type": "AWS::Serverless::LayerVersion"},
            "Fn": {"Type": "AWS::Serverless::Function"},
        }
    }
    resolver = template.Resolver(doc, "stack")
    assert resolver.resolve({"Ref": "Data"}, "x") == "stack-data"
    assert resolver.resolve({"Ref": "Named"}, "x") == "my-bucket"
    assert resolver.resolve({"Ref": "Lib"}, "x").endswith(":layer:Lib:1")
    assert resolver.resolve({"Ref": "Fn"}, "x") == "Fn"
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}, "x").endswith(":function:Fn")
    assert resolver.resolve({"Ref": "AWS::AccountId"}, "x") == template.ACCOUNT_ID
    assert resolver.resolve([{"Ref": "AWS::NoValue"}, 1], "x") == [1]
    with pytest.raises(LocalError, match="unknown condition Nope"):
        resolver.resolve({"Fn::If": ["Nope", 1, 2]}, "x")
