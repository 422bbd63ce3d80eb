"""The gateway's authorizer for a template: which routes need what, refusals, banner text."""

from __future__ import annotations

import shlex

import pytest

from lambdaserve.local.auth import policy, sigv4
from lambdaserve.local.auth.contract import GatewayRequest
from lambdaserve.local.errors import LocalError
from lambdaserve.local.routes import RouteMatch
from lambdaserve.local.template import HttpRoute
from lambdaserve.local.template.http_auth import IAM, NONE, ApiAuth, JwtConfig

PREDICT = HttpRoute("POST", "/models/{m}/predict", "Model")
HEALTH = HttpRoute("GET", "/health", "Index", auth=NONE)
KEY = sigv4.AccessKey("AKIAENVIRONMENT00000", "env-secret")
ENV = policy.Signer(KEY, "env")
JWT_API = ApiAuth("Jwt", {"Jwt": JwtConfig("https://issuer", ("client",))})


def request(route: HttpRoute, headers: list[tuple[str, str]], body: bytes = b"") -> GatewayRequest:
    path = route.path.replace("{m}", "iris")
    return GatewayRequest(route.method, path, "", headers, body, RouteMatch(route, {}))


def signed(route: HttpRoute, body: bytes, key: sigv4.AccessKey = KEY) -> GatewayRequest:
    path = route.path.replace("{m}", "iris")
    headers = sigv4.sign(route.method, f"http://h{path}", [("host", "h")], body, key, "us-east-1")
    return request(route, list(headers.items()), body)


def test_iam_routes_need_the_environments_signature_open_ones_nothing() -> None:
    auth = policy.LocalAuth(ApiAuth(IAM), [PREDICT, HEALTH], "us-east-1", lambda: ENV)
    refused: list[str] = []
    auth.log = refused.append
    assert auth(request(PREDICT, [])).refusal == policy.FORBIDDEN
    other = sigv4.AccessKey(KEY.access_key, "other-secret")
    assert auth(signed(PREDICT, b"{}", other)).refusal == policy.FORBIDDEN
    decision = auth(signed(PREDICT, b"{}"))
    assert decision.refusal is None
    assert decision.context is not None
    assert decision.context["iam"]["accessKey"] == KEY.access_key
    assert auth(request(HEALTH, [])).refusal is None  # Authorizer: NONE on the route
    assert refused == [
        "POST /models/iris/predict refused: no Authorization header (unsigned request)",
        "POST /models/iris/predict refused: signature does not match (wrong secret key, "
        "or the request was altered)",
    ]


def test_without_environment_credentials_dummies_are_made_and_printed() -> None:
    auth = policy.LocalAuth(ApiAuth(IAM), [PREDICT], "eu-west-1", lambda: None)
    assert auth.signer is not None and auth.signer.source == "dummy"
    dummy = auth.signer.credentials
    assert dummy.access_key.startswith("AKIA") and len(dummy.access_key) == 20
    options = shlex.split(auth.curl_options(PREDICT))
    assert options == [
        "--aws-sigv4",
        "aws:amz:eu-west-1:execute-api",
        "--user",
        f"{dummy.access_key}:{dummy.secret_key}",
    ]
    assert "dummy credentials" in "\n".join(auth.describe())


def test_real_credentials_are_never_printed() -> None:
    temporary = policy.Signer(sigv4.AccessKey(KEY.access_key, "env-secret", "tok"), "sso")
    auth = policy.LocalAuth(ApiAuth(IAM), [PREDICT], "us-east-1", lambda: temporary)
    text = "\n".join([*auth.describe(), auth.curl_options(PREDICT)])
    assert "env-secret" not in text and "tok" not in text.replace("token", "")
    assert '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"' in text
    assert "x-amz-security-token: $AWS_SESSION_TOKEN" in text
    assert "aws configure export-credentials" in text  # sso: not in the variables yet


def test_jwt_routes_need_the_local_issuers_token() -> None:
    auth = policy.LocalAuth(JWT_API, [PREDICT, HEALTH], "us-east-1", lambda: ENV)
    assert auth.signer is None  # no IAM route: no credentials read
    token = auth.tokens["Jwt"]
    assert f"export LAMBDASERVE_TOKEN={token}" in "\n".join(auth.describe())
    assert auth(request(PREDICT, [])).refusal == policy.UNAUTHORIZED
    assert auth(request(PREDICT, [("Authorization", "Bearer x.y.z")])).refusal
    decision = auth(request(PREDICT, [("authorization", f"Bearer {token}")]))
    assert decision.context is not None
    claims = decision.context["jwt"]["claims"]
    assert claims["iss"] == "https://issuer" and claims["aud"] == "client"
    assert isinstance(claims["exp"], str)  # API Gateway hands claims over as strings
    assert auth.curl_options(PREDICT) == '-H "Authorization: Bearer $LAMBDASERVE_TOKEN"'
    assert auth.curl_options(HEALTH) == ""


def test_a_jwt_authorizer_without_issuer_or_audience_gets_local_ones() -> None:
    api = ApiAuth("Jwt", {"Jwt": JwtConfig("", ())})
    auth = policy.LocalAuth(api, [PREDICT], "us-east-1")
    issuer = auth.issuers["Jwt"]
    assert (issuer.issuer, issuer.audiences) == (policy.LOCAL_ISSUER, (policy.LOCAL_AUDIENCE,))


def test_a_route_naming_an_unknown_authorizer_is_a_clear_error() -> None:
    route = HttpRoute("GET", "/x", "F", auth="Lambda")
    with pytest.raises(LocalError, match="authorizers the HttpApi does not define: Lambda"):
        policy.LocalAuth(ApiAuth(IAM), [route], "us-east-1", lambda: ENV)
