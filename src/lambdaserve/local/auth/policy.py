"""Which routes need which authorizer, the check itself, and what the banner says about it.

The template's HttpApi Auth decides, as in AWS: AWS_IAM routes need a SigV4 signature made
with the credentials of the environment `serve` runs in (or, with none there, a dummy key
pair made at start and printed); JWT routes need a token from the local issuer (printed);
routes with `Authorizer: NONE` (and every route when the API has no Auth) are open.
Refusals are API Gateway's: 403 `{"message":"Forbidden"}` for IAM, 401
`{"message":"Unauthorized"}` for JWT; the reason goes to the local log only.
"""

from __future__ import annotations

import secrets
import shlex
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.credentials import create_credential_resolver

from lambdaserve.local.auth import sigv4
from lambdaserve.local.auth.contract import Decision, GatewayRequest
from lambdaserve.local.auth.jwt import InvalidToken, LocalIssuer
from lambdaserve.local.errors import LocalError
from lambdaserve.local.events import error_response
from lambdaserve.local.template import ACCOUNT_ID, HttpRoute
from lambdaserve.local.template.http_auth import IAM, NONE, ApiAuth

# When the template names no issuer or audience (AuthMode JWT needs both to deploy).
LOCAL_ISSUER = "https://lambdaserve.local/issuer"
LOCAL_AUDIENCE = "lambdaserve-local"
TOKEN_VARIABLE = "LAMBDASERVE_TOKEN"
FORBIDDEN = error_response(403, "Forbidden")
UNAUTHORIZED = error_response(401, "Unauthorized")

Log = Callable[[str], None]


@dataclass(frozen=True)
class Signer:
    """The credentials IAM routes accept, and where they came from."""

    credentials: sigv4.AccessKey
    source: str  # botocore's provider name ("env", "shared-credentials-file" ...) or "dummy"


def environment_signer() -> Signer | None:
    """The environment's credentials (variables, profile, SSO ...), never the instance role's."""
    session = botocore.session.Session()
    resolver = create_credential_resolver(session)
    for remote in ("iam-role", "container-role"):  # no metadata service calls at start
        resolver.remove(remote)
    try:
        found = resolver.load_credentials()
    except Exception as exc:  # a broken profile is not worth a crash: say so, use dummies
        raise LocalError(f"cannot read the environment's AWS credentials: {exc}") from None
    if found is None:
        return None
    frozen = found.get_frozen_credentials()
    if not frozen.access_key or not frozen.secret_key:
        return None
    return Signer(sigv4.AccessKey(frozen.access_key, frozen.secret_key, frozen.token), found.method)


def dummy_signer() -> Signer:
    alphabet = string.ascii_uppercase + string.digits
    key = "AKIALOCAL" + "".join(secrets.choice(alphabet) for _ in range(11))
    return Signer(sigv4.AccessKey(key, secrets.token_urlsafe(30)), "dummy")


def _claims_context(claims: dict[str, Any]) -> dict[str, Any]:
    """API Gateway passes claims as strings (lists as `[a b]`)."""
    flat = {
        k: v
        if isinstance(v, str)
        else f"[{' '.join(map(str, v))}]"
        if isinstance(v, list)
        else str(v)
        for k, v in claims.items()
    }
    return {"jwt": {"claims": flat, "scopes": None}}


class LocalAuth:
    """The gateway's authorizer for one template's routes (see the module docstring)."""

    def __init__(
        self,
        api: ApiAuth,
        routes: Iterable[HttpRoute],
        region: str,
        signer: Callable[[], Signer | None] = environment_signer,
    ) -> None:
        self.api = api
        self.region = region
        self.log: Log | None = None
        guards = {api.authorizer(route.auth) for route in routes}
        unknown = guards - {IAM, NONE} - set(api.jwt)
        if unknown:
            raise LocalError(
                f"routes name authorizers the HttpApi does not define: {', '.join(sorted(unknown))}"
            )
        self.signer: Signer | None = None
        if IAM in guards:
            self.signer = signer() or dummy_signer()
        self.issuers = {
            name: LocalIssuer(config.issuer or LOCAL_ISSUER, config.audiences or (LOCAL_AUDIENCE,))
            for name, config in api.jwt.items()
            if name in guards
        }
        self.tokens = {name: issuer.token() for name, issuer in self.issuers.items()}

    def guard(self, route: HttpRoute) -> str:
        return self.api.authorizer(route.auth)

    def __call__(self, request: GatewayRequest) -> Decision:
        guard = self.guard(request.match.route)
        if guard == NONE:
            return Decision()
        if guard == IAM:
            return self._iam(request)
        return self._jwt(guard, request)

    def _refuse(self, request: GatewayRequest, reason: str, refusal: Decision) -> Decision:
        if self.log:
            self.log(f"{request.method} {request.raw_path} refused: {reason}")
        return refusal

    def _iam(self, request: GatewayRequest) -> Decision:
        assert self.signer is not None
        try:
            key = sigv4.verify(
                request.method,
                request.raw_path,
                request.raw_query,
                request.headers,
                request.body,
                self.signer.credentials,
                self.region,
            )
        except sigv4.Refused as exc:
            return self._refuse(request, str(exc), Decision(refusal=FORBIDDEN))
        user = f"arn:aws:iam::{ACCOUNT_ID}:user/lambdaserve-local"
        identity = {
            "accessKey": key,
            "accountId": ACCOUNT_ID,
            "callerId": key,
            "cognitoIdentity": None,
            "principalOrgId": None,
            "userArn": user,
            "userId": key,
        }
        return Decision(context={"iam": identity})

    def _jwt(self, name: str, request: GatewayRequest) -> Decision:
        refusal = Decision(refusal=UNAUTHORIZED)
        values = [v for k, v in request.headers if k.lower() == "authorization"]
        if not values:
            return self._refuse(request, "no Authorization header (token)", refusal)
        token = values[0].removeprefix("Bearer ").strip()
        try:
            claims = self.issuers[name].verify(token)
        except InvalidToken as exc:
            return self._refuse(request, f"token refused: {exc}", refusal)
        return Decision(context=_claims_context(claims))

    # -- what the banner says, and how its examples authenticate
    def describe(self) -> list[str]:
        lines: list[str] = []
        if self.signer is not None:
            key = self.signer.credentials.access_key
            if self.signer.source == "dummy":
                origin = "dummy credentials made for this run (no AWS credentials found)"
            else:
                origin = f"your AWS credentials ({self.signer.source}, key {key[:4]}…{key[-4:]})"
            lines.append(
                f"  Auth        AWS_IAM: SigV4 signatures (service {sigv4.SERVICE}, region "
                f"{self.region}) made with {origin}; others get 403"
            )
            if self.signer.source not in ("dummy", "env"):
                lines.append(
                    "              curl examples read them from the environment: "
                    'eval "$(aws configure export-credentials --format env)"'
                )
        for name, issuer in self.issuers.items():
            lines.append(
                f"  Auth        JWT ({name}): tokens of the local issuer {issuer.issuer} "
                f"for {', '.join(issuer.audiences)}; others get 401. Token (12 h):"
            )
            lines.append(f"  export {TOKEN_VARIABLE}={self.tokens[name]}")
        open_routes = self.api.default == NONE
        if open_routes and not lines:
            lines.append("  Auth        none: the template's HttpApi lets anyone call every route")
        return lines

    def curl_options(self, route: HttpRoute) -> str:
        guard = self.guard(route)
        if guard == NONE:
            return ""
        if guard != IAM:
            return f'-H "Authorization: Bearer ${TOKEN_VARIABLE}"'
        assert self.signer is not None
        sigv4_option = f"--aws-sigv4 {shlex.quote(f'aws:amz:{self.region}:{sigv4.SERVICE}')}"
        credentials = self.signer.credentials
        if self.signer.source == "dummy":
            user = shlex.quote(f"{credentials.access_key}:{credentials.secret_key}")
        else:
            user = '"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"'
        token = ' -H "x-amz-security-token: $AWS_SESSION_TOKEN"' if credentials.token else ""
        return f"{sigv4_option} --user {user}{token}"
