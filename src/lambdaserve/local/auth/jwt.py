"""A local JWT issuer for routes guarded by a JWT authorizer: API Gateway's checks, our key.

`serve` cannot hold the real issuer's keys (Cognito's), so it stands in for the issuer the
template names: an RS256 key pair made at start signs the token the banner prints, and
requests are checked as API Gateway's JWT authorizer checks them: signature and `kid`,
`iss`, `aud` (or `client_id` when there is no `aud`) among the audiences, `exp` and `nbf`.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

ALGORITHM = "RS256"
LIFETIME = 12 * 3600  # seconds the printed token stays valid
LEEWAY = 60  # clock skew allowed on exp and nbf


class InvalidToken(Exception):
    """Why a token was not accepted (for the local log only)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise InvalidToken("not base64url") from None


def _part(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_unb64(text))
    except ValueError:
        raise InvalidToken(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"{what} is not an object")
    return value


class LocalIssuer:
    def __init__(self, issuer: str, audiences: tuple[str, ...]) -> None:
        self.issuer = issuer
        self.audiences = audiences
        self.kid = secrets.token_hex(8)
        self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def token(self, subject: str = "local-user", lifetime: int = LIFETIME) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audiences[0],
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": secrets.token_hex(8),
        }
        header = {"alg": ALGORITHM, "typ": "JWT", "kid": self.kid}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        signature = self._key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{_b64(signature)}"

    def verify(self, token: str, now: float | None = None) -> dict[str, Any]:
        """The token's claims, or `InvalidToken` saying what is wrong with it."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidToken("not a JWT (header.payload.signature)")
        header = _part(parts[0], "header")
        if header.get("alg") != ALGORITHM or header.get("kid") != self.kid:
            raise InvalidToken(f"alg must be {ALGORITHM} with this issuer's kid")
        try:
            self._key.public_key().verify(
                _unb64(parts[2]),
                f"{parts[0]}.{parts[1]}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            raise InvalidToken("bad signature") from None
        claims = _part(parts[1], "payload")
        if claims.get("iss") != self.issuer:
            raise InvalidToken(f"iss {claims.get('iss')!r} is not {self.issuer!r}")
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not any(a in self.audiences for a in audiences):
            raise InvalidToken(f"aud / client_id {audience!r} not among {list(self.audiences)}")
        moment = time.time() if now is None else now
        exp, nbf = claims.get("exp"), claims.get("nbf", 0)
        if not isinstance(exp, int | float) or moment > exp + LEEWAY:
            raise InvalidToken("expired (or no exp)")
        if not isinstance(nbf, int | float) or moment < nbf - LEEWAY:
            raise InvalidToken("not valid yet (nbf)")
        return claims
