"""`Type: HttpApi` events."""

from __future__ import annotations

from pathlib import Path

from lambdaserve.local import template

from ..texts import FUNCTION, write


def test_default_route_without_path(tmp_path: Path) -> None:
    text = f"Resources:\n{FUNCTION}      Events:\n        All: {{Type: HttpApi}}\n"
    (route,) = template.load(write(tmp_path, text)).routes
    assert route.key == "$default"


def test_methods_and_paths(tmp_path: Path) -> None:
    text = f"""Resources:
{FUNCTION}      Events:
        A: {{Type: HttpApi, Properties: {{Path: /a, Method: get}}}}
        B: {{Type: HttpApi, Properties: {{Path: /b, Method: x-amazon-apigateway-any-method}}}}
        C: {{Type: HttpApi, Properties: {{Path: !Sub "/${{AWS::Region}}"}}}}
"""
    keys = [r.key for r in template.load(write(tmp_path, text)).routes]
    assert keys == ["GET /a", "ANY /b", "ANY /us-east-1"]
