"""Signing for tests that call the local gateway: the one place they get credentials from.

`serve` run without AWS credentials in its environment signs with dummy ones it prints in
its banner's curl examples (`--user KEY:SECRET`); `SigV4` signs httpx requests with them as
AWS's SDKs would (botocore's signer), `Bearer` sends a JWT authorizer's token.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Generator, Mapping, Sequence

import httpx

from lambdaserve.local.auth import sigv4

REGION = "us-east-1"


def without_aws_credentials(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment in which botocore finds no credentials (so `serve` makes dummy ones)."""
    clean = {k: v for k, v in (env or os.environ).items() if not k.startswith("AWS_")}
    clean["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    clean["AWS_CONFIG_FILE"] = os.devnull
    return clean


def banner_credentials(banner: Sequence[str]) -> sigv4.AccessKey:
    """The dummy key pair a banner's signed curl examples carry."""
    for line in banner:
        words = shlex.split(line) if line.strip().startswith("curl") else []
        if "--aws-sigv4" in words and "--user" in words:
            key, _, secret = words[words.index("--user") + 1].partition(":")
            return sigv4.AccessKey(key, secret)
    raise AssertionError(f"no signed curl example in the banner: {banner}")


def banner_token(banner: Sequence[str]) -> str:
    """The local issuer's token a banner exports (`export LAMBDASERVE_TOKEN=...`)."""
    for line in banner:
        name, _, value = line.strip().removeprefix("export ").partition("=")
        if name == "LAMBDASERVE_TOKEN":
            return value
    raise AssertionError(f"no token in the banner: {banner}")


class SigV4(httpx.Auth):
    """SigV4 for service execute-api, over the request's exact bytes."""

    requires_request_body = True

    def __init__(self, credentials: sigv4.AccessKey, region: str = REGION) -> None:
        self.credentials = credentials
        self.region = region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = sigv4.sign(
            request.method,
            str(request.url),
            [("host", request.headers["host"])],
            request.content,
            self.credentials,
            self.region,
        )
        for name, value in signed.items():
            if name.lower() != "host":
                request.headers[name] = value
        yield request


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self.token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        yield request
