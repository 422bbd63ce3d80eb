"""The deployed API is closed by default, and each security parameter does what it says."""

from __future__ import annotations

from typing import Any

import pytest
from sam_translate import deployed, http_api_body, route_security

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
PUBLIC_ROUTES = {
    "GET /health",
    "GET /v2/health/live",
    "GET /v2/health/ready",
    "GET /docs",
    "GET /openapi.json",
}
RESERVED = {
    "Fn::If": ["HasApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
}
JWT = {"AuthMode": "JWT", "JwtIssuer": ISSUER, "JwtAudiences": "client-a,client-b"}


@pytest.fixture(scope="module")
def default() -> dict[str, Any]:
    resources: dict[str, Any] = deployed()["Resources"]
    return resources


def test_every_route_needs_sigv4_by_default(default: dict[str, Any]) -> None:
    body = http_api_body(default)
    security = route_security(body)
    assert len(security) > 20
    assert all(s == [{"AWS_IAM": []}] for s in security.values()), security
    scheme = body["components"]["securitySchemes"]["AWS_IAM"]
    assert scheme["x-amazon-apigateway-authtype"] == "awsSigv4"


def test_cors_is_closed_by_default(default: dict[str, Any]) -> None:
    assert "x-amazon-apigateway-cors" not in http_api_body(default)


def test_jwt_mode_checks_the_issuer_and_audiences() -> None:
    body = http_api_body(deployed(JWT)["Resources"])
    assert set(map(str, route_security(body).values())) == {"[{'JwtAuthorizer': []}]"}
    authorizer = body["components"]["securitySchemes"]["JwtAuthorizer"]
    assert authorizer["x-amazon-apigateway-authorizer"]["jwtConfiguration"] == {
        "issuer": ISSUER,
        "audience": ["client-a", "client-b"],
    }


def test_none_mode_opens_every_route() -> None:
    body = http_api_body(deployed({"AuthMode": "NONE"})["Resources"])
    assert set(map(str, route_security(body).values())) == {"None"}
    assert "securitySchemes" not in body.get("components", {})


@pytest.mark.parametrize("mode", [{"AuthMode": "IAM"}, JWT])
def test_public_health_and_docs_opens_exactly_those_routes(mode: dict[str, str]) -> None:
    body = http_api_body(deployed({**mode, "PublicHealthAndDocs": "true"})["Resources"])
    security = route_security(body)
    opened = {route for route, s in security.items() if s == [{"NONE": []}]}
    assert opened == PUBLIC_ROUTES
    assert all(s not in (None, [{"NONE": []}]) for r, s in security.items() if r not in opened)


def test_cors_allows_only_the_named_origins() -> None:
    origins = "https://app.example.com,https://admin.example.com"
    body = http_api_body(deployed({"CorsAllowOrigins": origins})["Resources"])
    cors = body["x-amazon-apigateway-cors"]
    assert cors["allowOrigins"] == origins.split(",")
    assert cors["allowMethods"] == ["GET", "POST"]
    assert "authorization" in cors["allowHeaders"]


def test_limits_reach_the_stage_and_the_functions() -> None:
    template = deployed(
        {
            "ThrottlingBurstLimit": "50",
            "ThrottlingRateLimit": "20",
            "ApiReservedConcurrency": "7",
            "MaxRowsPerRequest": "500",
            "MaxJsonDepth": "12",
        }
    )
    resources = template["Resources"]
    # Language extensions fold the value into the condition; CloudFormation evaluates it.
    assert template["Conditions"]["HasApiConcurrency"] == {"Fn::Not": [{"Fn::Equals": ["7", 0]}]}
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert (settings["ThrottlingBurstLimit"], settings["ThrottlingRateLimit"]) == ("50", "20")
    api_functions = {
        k: r
        for k, r in resources.items()
        if r["Type"] == "AWS::Lambda::Function" and k != "BatchPredictFunction"
    }
    assert len(api_functions) >= 5
    for function in api_functions.values():
        props = function["Properties"]
        # CloudFormation resolves this !If at deploy time (HasApiConcurrency: value != 0).
        assert props["ReservedConcurrentExecutions"] == RESERVED
        env = props["Environment"]["Variables"]
        assert env["LAMBDASERVE_MAX_ROWS"] == {"Ref": "MaxRowsPerRequest"}
        assert env["LAMBDASERVE_MAX_JSON_DEPTH"] == {"Ref": "MaxJsonDepth"}


def test_reserved_concurrency_only_when_asked() -> None:
    template = deployed()
    assert template["Conditions"]["HasApiConcurrency"] == {"Fn::Not": [{"Fn::Equals": [0, 0]}]}
    assert template["Parameters"]["ApiReservedConcurrency"]["Default"] == 0
