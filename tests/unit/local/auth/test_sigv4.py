"""SigV4 verification against botocore's own signatures, and every way a request is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.local.auth import sigv4

KEY = sigv4.AccessKey("AKIALOCALTEST0000000", "s3cr3t-key")
REGION = "us-east-1"
HOST = "127.0.0.1:3000"


def signed(
    method: str = "POST",
    url: str = f"http://{HOST}/models/iris/predict",
    body: bytes = b'{"features": [1, 2, 3, 4]}',
    key: sigv4.AccessKey = KEY,
    region: str = REGION,
    extra: tuple[tuple[str, str], ...] = (),
) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    headers = sigv4.sign(method, url, [("Host", HOST), *extra], body, key, region)
    parts = urlsplit(url)
    return method, parts.path, parts.query, list(headers.items()), body


def check(request: tuple[str, str, str, list[tuple[str, str]], bytes], **kwargs: object) -> str:
    method, path, query, headers, body = request
    return sigv4.verify(method, path, query, headers, body, KEY, REGION, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        f"http://{HOST}/health",
        f"http://{HOST}/v1/models/iris:predict",
        f"http://{HOST}/items/a%20b?x=1&x=2&b=a%2Fb",
        f"http://{HOST}/v2/models/iris/versions/1/infer?z=&a=1",
    ],
)
def test_what_botocore_signs_is_accepted(url: str) -> None:
    assert check(signed(url=url)) == KEY.access_key


printable = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="?#%"))


@settings(max_examples=100)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE"]),
    segments=st.lists(printable.filter(lambda s: s not in (".", "..")), min_size=1, max_size=4),
    body=st.binary(max_size=256),
    flip=st.integers(min_value=0, max_value=255),
)
def test_any_request_verifies_and_any_changed_body_byte_does_not(
    method: str, segments: list[str], body: bytes, flip: int
) -> None:
    from urllib.parse import quote

    url = f"http://{HOST}/" + "/".join(quote(s, safe="") for s in segments)
    request = signed(method, url, body)
    assert check(request) == KEY.access_key
    if body:
        index = flip % len(body)
        altered = body[:index] + bytes([body[index] ^ 1]) + body[index + 1 :]
        with pytest.raises(sigv4.Refused, match="signature does not match"):
            check((*request[:4], altered))


def refusal(request: tuple[str, str, str, list[tuple[str, str]], bytes], **kwargs: object) -> str:
    with pytest.raises(sigv4.Refused) as caught:
        check(request, **kwargs)
    return str(caught.value)


def replace_header(
    request: tuple[str, str, str, list[tuple[str, str]], bytes], name: str, value: str | None
) -> tuple[str, str, str, list[tuple[str, str]], bytes]:
    headers = [(k, v) for k, v in request[3] if k.lower() != name]
    if value is not None:
        headers.append((name, value))
    return (*request[:3], headers, request[4])


def test_unsigned_and_malformed_authorization_are_refused() -> None:
    request = signed()
    assert "unsigned" in refusal(replace_header(request, "authorization", None))
    assert "not AWS4-HMAC-SHA256" in refusal(replace_header(request, "authorization", "Basic x"))
    broken = replace_header(request, "authorization", "AWS4-HMAC-SHA256 Credential=a/b")
    assert "lacks" in refusal(broken)


def test_other_keys_regions_and_services_are_refused() -> None:
    other = sigv4.AccessKey("AKIAOTHER00000000000", KEY.secret_key)
    assert "unknown access key" in refusal(signed(key=other))
    assert "expected us-east-1/execute-api" in refusal(signed(region="eu-west-1"))
    wrong_secret = sigv4.AccessKey(KEY.access_key, "guessed")
    assert "signature does not match" in refusal(signed(key=wrong_secret))


def test_old_or_future_signatures_are_refused() -> None:
    request = signed()
    later = datetime.now(UTC) + timedelta(minutes=16)
    assert "15 minutes" in refusal(request, now=later)
    assert check(request, now=datetime.now(UTC) + timedelta(minutes=14)) == KEY.access_key


def test_tampered_headers_paths_and_body_hashes_are_refused() -> None:
    request = signed(extra=(("content-type", "application/json"),))
    assert "does not match" in refusal(replace_header(request, "content-type", "text/json"))
    assert "missing" in refusal(replace_header(request, "content-type", None))
    assert "does not match" in refusal(("POST", "/models/digits/predict", *request[2:]))
    assert "body" in refusal(replace_header(request, "x-amz-content-sha256", "0" * 64))


def test_temporary_credentials_need_their_session_token() -> None:
    temporary = sigv4.AccessKey(KEY.access_key, KEY.secret_key, "session-token")
    method, path, query, headers, body = signed(key=temporary)
    assert sigv4.verify(method, path, query, headers, body, temporary, REGION)
    without = [(k, v) for k, v in headers if k.lower() != "x-amz-security-token"]
    with pytest.raises(sigv4.Refused, match="Security-Token"):
        sigv4.verify(method, path, query, without, body, temporary, REGION)
