"""SigV4 as API Gateway checks it for AWS_IAM routes (service `execute-api`).

The signature is recomputed with botocore's signer from what the client says it signed
(the `SignedHeaders` list), over the request as it arrived. The canonical path and query
are tried as AWS's SDKs write them (path segments encoded again, query pairs sorted) and
as sent: curl's `--aws-sigv4` (7.x) signs the path as sent and the query unsorted. Only
the encoding of the same request varies; scope, date, key and body hash must match.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote, unquote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import normalize_url_path

SERVICE = "execute-api"
ALGORITHM = "AWS4-HMAC-SHA256"
MAX_SKEW = timedelta(minutes=15)  # API Gateway refuses signatures older or newer than this
_AMZ_DATE = "%Y%m%dT%H%M%SZ"
_FIELD = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]+)")

Headers = Sequence[tuple[str, str]]


class AccessKey(NamedTuple):
    access_key: str
    secret_key: str
    token: str | None = None


class Refused(Exception):
    """Why a request's signature was not accepted (for the local log only)."""


def _header(headers: Headers, name: str) -> list[str]:
    return [v for k, v in headers if k.lower() == name]


def _one(headers: Headers, name: str) -> str | None:
    values = _header(headers, name)
    return values[0] if values else None


def _signer(credentials: AccessKey, region: str) -> SigV4Auth:
    return SigV4Auth(
        Credentials(credentials.access_key, credentials.secret_key, credentials.token),
        SERVICE,
        region,
    )


def _paths(raw_path: str) -> list[str]:
    sdk = quote(normalize_url_path(raw_path or "/"), safe="/~")  # botocore's: encoded again
    single = quote(unquote(raw_path or "/"), safe="/~")
    return list(dict.fromkeys([sdk, raw_path or "/", single]))


def _queries(raw_query: str) -> list[str]:
    pairs = [pair.partition("=") for pair in raw_query.split("&") if pair]
    as_sent = "&".join(f"{k}={v}" for k, _, v in sorted(pairs))
    encoded = sorted(
        (quote(unquote(k), safe="-_.~"), quote(unquote(v), safe="-_.~")) for k, _, v in pairs
    )
    encoded_query = "&".join(f"{k}={v}" for k, v in encoded)
    return list(dict.fromkeys([as_sent, encoded_query, raw_query]))


def verify(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    body: bytes,
    credentials: AccessKey,
    region: str,
    now: datetime | None = None,
) -> str:
    """The access key of a correctly signed request; `Refused` with the reason otherwise."""
    authorization = _one(headers, "authorization")
    if not authorization:
        raise Refused("no Authorization header (unsigned request)")
    if not authorization.startswith(ALGORITHM + " "):
        raise Refused(f"Authorization is not {ALGORITHM}")
    fields: dict[str, str] = dict(_FIELD.findall(authorization))
    if set(fields) != {"Credential", "SignedHeaders", "Signature"}:
        raise Refused("Authorization lacks Credential, SignedHeaders or Signature")
    scope = fields["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise Refused("malformed credential scope")
    key, day, scope_region, service, _ = scope
    if not hmac.compare_digest(key, credentials.access_key):
        raise Refused(f"unknown access key {key}")
    if service != SERVICE or scope_region != region:
        raise Refused(f"scope {scope_region}/{service}; expected {region}/{SERVICE}")
    amz_date = _one(headers, "x-amz-date") or ""
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise Refused("missing or malformed X-Amz-Date") from None
    if abs((now or datetime.now(UTC)) - signed_at) > MAX_SKEW or day != amz_date[:8]:
        raise Refused("signature date outside 15 minutes of now, or not the scope's day")
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        raise Refused("host and x-amz-date must be signed")
    if credentials.token and _one(headers, "x-amz-security-token") != credentials.token:
        raise Refused("temporary credentials need their X-Amz-Security-Token")
    body_hash = hashlib.sha256(body).hexdigest()
    declared = _one(headers, "x-amz-content-sha256")
    if declared is not None and declared != body_hash:
        raise Refused("X-Amz-Content-SHA256 does not match the body")
    canonical_headers = []
    for name in signed:
        values = _header(headers, name)
        if not values:
            raise Refused(f"signed header {name} is missing")
        canonical_headers.append(f"{name}:{','.join(' '.join(v.split()) for v in values)}")
    signer = _signer(credentials, region)
    request = AWSRequest(method=method)
    request.context["timestamp"] = amz_date
    expected = fields["Signature"]
    tail = ["\n".join(canonical_headers) + "\n", ";".join(signed), declared or body_hash]
    for path in _paths(raw_path):
        for query in _queries(raw_query):
            canonical = "\n".join([method.upper(), path, query, *tail])
            signature = str(signer.signature(signer.string_to_sign(request, canonical), request))
            if hmac.compare_digest(signature, expected):
                return key
    raise Refused("signature does not match (wrong secret key, or the request was altered)")


def sign(
    method: str,
    url: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    credentials: AccessKey,
    region: str,
) -> dict[str, str]:
    """The headers of a request signed as AWS's SDKs sign it (for clients of the local API)."""
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    _signer(credentials, region).add_auth(request)
    return dict(request.headers.items())
