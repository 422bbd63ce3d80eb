"""The real template's HttpApi Auth per AuthMode, as the local gateway reads it."""

from __future__ import annotations

from pathlib import Path

from lambdaserve.local import template
from lambdaserve.local.template.http_auth import IAM, NONE, JwtConfig

ROOT = Path(__file__).resolve().parents[4]
HEALTH_AND_DOCS = {"/health", "/docs", "/openapi.json", "/v2/health/live", "/v2/health/ready"}


def load(**parameters: str) -> template.Template:
    return template.load(ROOT / "template.yaml", parameters=parameters)


def test_iam_by_default_on_every_route() -> None:
    tpl = load()
    assert tpl.http_auth.default == IAM
    assert {tpl.http_auth.authorizer(r.auth) for r in tpl.routes} == {IAM}


def test_jwt_mode_with_issuer_audiences_and_open_health() -> None:
    tpl = load(
        AuthMode="JWT", JwtIssuer="https://idp", JwtAudiences="a,b", PublicHealthAndDocs="true"
    )
    assert tpl.http_auth.jwt == {"JwtAuthorizer": JwtConfig("https://idp", ("a", "b"))}
    guards = {r.path: tpl.http_auth.authorizer(r.auth) for r in tpl.routes}
    assert {p for p, g in guards.items() if g == NONE} == HEALTH_AND_DOCS
    assert {g for p, g in guards.items() if p not in HEALTH_AND_DOCS} == {"JwtAuthorizer"}


def test_none_mode_opens_everything() -> None:
    tpl = load(AuthMode="NONE")
    assert {tpl.http_auth.authorizer(r.auth) for r in tpl.routes} == {NONE}
