"""The local JWT issuer: its tokens pass API Gateway's checks; anything else is refused."""

from __future__ import annotations

import base64
import json
import time

import pytest

from lambdaserve.local.auth.jwt import InvalidToken, LocalIssuer

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local"


@pytest.fixture(scope="module")
def issuer() -> LocalIssuer:
    return LocalIssuer(ISSUER, ("app-client", "other-client"))


def part(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_its_token_verifies_with_the_claims_api_gateway_checks(issuer: LocalIssuer) -> None:
    claims = issuer.verify(issuer.token("alice"))
    assert claims["iss"] == ISSUER and claims["aud"] == "app-client" and claims["sub"] == "alice"
    assert claims["exp"] - claims["iat"] == 12 * 3600


def test_tampered_foreign_expired_and_unsigned_tokens_are_refused(issuer: LocalIssuer) -> None:
    header, payload, signature = issuer.token().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = part({**claims, "sub": "admin"})
    with pytest.raises(InvalidToken, match="bad signature"):
        issuer.verify(f"{header}.{forged}.{signature}")
    stranger = LocalIssuer(ISSUER, ("app-client",))  # same names, another key
    with pytest.raises(InvalidToken, match="kid"):
        issuer.verify(stranger.token())
    with pytest.raises(InvalidToken, match="expired"):
        issuer.verify(issuer.token(), now=time.time() + 13 * 3600)
    with pytest.raises(InvalidToken, match="alg"):
        issuer.verify(f"{part({'alg': 'none', 'kid': issuer.kid})}.{payload}.")
    for junk in ("", "a.b", "not.a.jwt", f"{header}.%%%.{signature}"):
        with pytest.raises(InvalidToken):
            issuer.verify(junk)


def test_issuer_and_audience_must_be_the_configured_ones() -> None:
    ours = LocalIssuer(ISSUER, ("app-client",))
    elsewhere = LocalIssuer("https://elsewhere", ("app-client",))
    elsewhere._key, elsewhere.kid = ours._key, ours.kid  # a token signed right, wrong claims
    with pytest.raises(InvalidToken, match="iss"):
        ours.verify(elsewhere.token())
    other_audience = LocalIssuer(ISSUER, ("someone-else",))
    other_audience._key, other_audience.kid = ours._key, ours.kid
    with pytest.raises(InvalidToken, match="aud"):
        ours.verify(other_audience.token())
