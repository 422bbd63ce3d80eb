"""`lambdaserve serve` enforcing the template's auth modes end to end (IAM with the
environment's own credentials, JWT with the local issuer's token)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from local_auth import Bearer, SigV4, banner_token, without_aws_credentials
from test_local_serve import IRIS_ROW, ROOT, Served, start, stop

from lambdaserve.local.auth import sigv4

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess

ENVIRONMENT_KEY = sigv4.AccessKey("AKIAENVIRONMENTKEY00", "environment-secret-key")


@pytest.fixture(scope="module")
def jwt_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("jwt") / "serve.log"
    served = start(ROOT, log, "--no-s3", "--parameter-overrides", "AuthMode=JWT")
    yield served
    stop(served)


def test_jwt_mode_takes_the_printed_token_and_nothing_else(jwt_served: Served) -> None:
    token = banner_token(jwt_served.banner)
    assert any(
        '-H "Authorization: Bearer $LAMBDASERVE_TOKEN"' in line for line in jwt_served.banner
    )
    with httpx.Client(base_url=jwt_served.api, timeout=120) as client:
        ok = client.post("/models/iris/predict", json={"features": IRIS_ROW}, auth=Bearer(token))
        assert ok.status_code == 200, ok.text
        for auth in (None, Bearer(token[:-4] + "AAAA"), Bearer("x.y.z")):
            refused = client.get("/health", auth=auth)
            assert refused.status_code == 401
            assert refused.json() == {"message": "Unauthorized"}
    assert "refused: token refused: bad signature" in jwt_served.log.read_text()


def test_iam_mode_signs_with_the_environments_credentials(tmp_path: Path) -> None:
    environment = without_aws_credentials()
    environment["AWS_ACCESS_KEY_ID"] = ENVIRONMENT_KEY.access_key
    environment["AWS_SECRET_ACCESS_KEY"] = ENVIRONMENT_KEY.secret_key
    served = start(ROOT, tmp_path / "serve.log", "--no-s3", env=environment)
    try:
        text = "\n".join(served.banner)
        assert "your AWS credentials (env, key AKIA…EY00)" in text
        assert ENVIRONMENT_KEY.secret_key not in text  # examples read the variables instead
        assert '--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"' in text
        with httpx.Client(base_url=served.api, timeout=120) as client:
            assert client.get("/health", auth=SigV4(ENVIRONMENT_KEY)).status_code == 200
            dummy = sigv4.AccessKey("AKIALOCAL00000000000", "anything")
            assert client.get("/health", auth=SigV4(dummy)).status_code == 403
    finally:
        stop(served)
