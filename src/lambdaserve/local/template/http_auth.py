"""The HttpApi's authorization, as API Gateway applies it: a default authorizer for every
route (AWS_IAM, a JWT authorizer, or none), which a route's own `Auth.Authorizer` overrides
(`NONE` opens it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template.intrinsics import Resolver

HTTP_API = "AWS::Serverless::HttpApi"
IAM = "AWS_IAM"
NONE = "NONE"


@dataclass(frozen=True)
class JwtConfig:
    issuer: str
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class ApiAuth:
    """default: IAM, NONE or the name of one of `jwt`'s authorizers."""

    default: str = NONE
    jwt: Mapping[str, JwtConfig] = field(default_factory=dict)

    def authorizer(self, route_auth: str | None) -> str:
        """What guards a route whose `Auth.Authorizer` is `route_auth` (None: not set)."""
        return self.default if route_auth is None else route_auth


def _audiences(raw: Any) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    return tuple(str(a).strip() for a in items if str(a).strip())


def parse(resources: Mapping[str, Any], resolver: Resolver) -> ApiAuth:
    """The first HttpApi's Auth (a template without one: the implicit API, open)."""
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or resource.get("Type") != HTTP_API:
            continue
        where = f"{logical_id}.Auth"
        props = resource.get("Properties") or {}
        auth = resolver.resolve(props.get("Auth"), where) or {}
        if not isinstance(auth, dict):
            raise LocalError(f"{where} must be a mapping")
        jwt: dict[str, JwtConfig] = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            config = (spec or {}).get("JwtConfiguration")
            if isinstance(config, dict):
                jwt[name] = JwtConfig(
                    str(config.get("issuer") or ""), _audiences(config.get("audience"))
                )
        # EnableIamAuthorizer alone only makes AWS_IAM available to routes that name it.
        default = str(auth.get("DefaultAuthorizer") or NONE)
        if default not in (IAM, NONE) and default not in jwt:
            raise LocalError(
                f"{where}: DefaultAuthorizer {default!r} is neither AWS_IAM nor a JWT authorizer "
                "of this API (the local gateway emulates those two)"
            )
        return ApiAuth(default, jwt)
    return ApiAuth()
