"""template.yaml as CloudFormation would deploy it: language extensions, then the SAM transform.

Both steps are the real ones (SAM CLI's language-extensions processor and the SAM
translator), run with the parameter values a deploy would pass; code locations are
replaced by the S3 URIs `sam package` would write.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from samcli.lib.cfn_language_extensions.sam_integration import expand_language_extensions
from samtranslator.translator.transform import transform

from lambdaserve.local.template import load_document

ROOT = Path(__file__).resolve().parents[2]
PSEUDO = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
    "AWS::StackName": "lambdaserve",
    "AWS::StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/lambdaserve/1a2b3c",
}


class _NoManagedPolicies:
    """The translator asks for managed policy ARNs by name; the template names none."""

    def load(self) -> dict[str, str]:
        return {}


def deployed(parameters: dict[str, str] | None = None, path: Path = ROOT / "template.yaml") -> Any:
    """The CloudFormation resources a deploy with these parameter values would create."""
    values: dict[str, Any] = {**PSEUDO, **(parameters or {})}
    document = load_document(path)
    expanded = expand_language_extensions(document, values, enabled=True).expanded_template
    for resource in expanded["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in props:
                props[key] = "s3://artifacts/lambdaserve.zip"
    os.environ.setdefault("AWS_DEFAULT_REGION", PSEUDO["AWS::Region"])
    return transform(expanded, values, _NoManagedPolicies())


def http_api_body(resources: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document SAM generated for the HTTP API (routes, auth, CORS)."""
    (api,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    body: dict[str, Any] = api["Properties"]["Body"]
    return body


def route_security(body: dict[str, Any]) -> dict[str, Any]:
    """Route key ("GET /health", "ANY /{proxy+}") -> the operation's `security` (None: open)."""
    out: dict[str, Any] = {}
    for path, operations in body["paths"].items():
        for method, op in operations.items():
            verb = "ANY" if method == "x-amazon-apigateway-any-method" else method.upper()
            out[f"{verb} {path}"] = op.get("security")
    return out
