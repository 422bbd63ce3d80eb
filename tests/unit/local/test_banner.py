"""The serve banner, from the real template and sample events, with real (unstarted) services."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdaserve.local import banner, services, template
from lambdaserve.local.samples import samples

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def real() -> template.Template:
    return template.load(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def text(real: template.Template) -> Iterator[str]:
    options = services.ServeOptions(port=0, lambda_port=0, s3_port=0, sqs_port=0)
    opened = list(services.open_all(real, options))
    try:
        yield banner.text(real, opened, samples(ROOT), built=False)
    finally:
        for service in opened:
            service.stop()


def test_every_service_and_function_is_listed(real: template.Template, text: str) -> None:
    lines = text.splitlines()
    assert lines[0].startswith("lambdaserve local runtime: template.yaml (source tree)")
    for name in ("HTTP API", "Lambda API", "S3", "SQS"):
        assert any(line.startswith(f"  {name} ") for line in lines), name
    for name in real.functions:
        assert any(line.startswith(f"  {name} ") for line in lines), name
    bucket = next(iter(real.buckets.values()))
    assert f"s3://{bucket}/incoming/* ending .csv, .csv.gz" in text
    assert text.endswith("Ctrl-C stops everything.")


def test_examples_come_from_sample_events(text: str) -> None:
    commands = [shlex.split(line) for line in text.split("Try:\n", 1)[1].splitlines()[:-1]]
    curls = [c for c in commands if c[0] == "curl"]
    urls = {id(c): next(arg for arg in c if arg.startswith("http")) for c in curls}
    gets = [urls[id(c)] for c in curls if "-X" not in c]
    assert gets and all(url.startswith("http://127.0.0.1:") for url in gets)
    posts = [c for c in curls if "-X" in c]
    assert {urls[id(c)].split("/", 3)[3].split("/")[0] for c in posts} == {"models", "v1", "v2"}
    # Every route needs IAM by default: each example signs (curl's SigV4, service execute-api).
    for curl in curls:
        assert curl[curl.index("--aws-sigv4") + 1] == "aws:amz:us-east-1:execute-api"
        assert ":" in curl[curl.index("--user") + 1]
    for post in posts:
        json.loads(post[post.index("-d") + 1])  # a real request body
    invoke = next(c for c in commands if c[:3] == ["aws", "lambda", "invoke"])
    payload = invoke[invoke.index("--payload") + 1].removeprefix("file://")
    assert json.loads((Path.cwd() / payload).read_text())["version"] == "2.0"
    upload = next(c for c in commands if "cp" in c)
    assert (Path.cwd() / upload[-2]).is_file() and upload[-1].startswith("s3://")


def test_sample_that_only_a_catch_all_takes_is_not_an_example(text: str) -> None:
    assert "/models/nope/predict" not in text  # the unknown-model sample: an error case


def test_auth_off_is_said_loudly_and_examples_are_unsigned(real: template.Template) -> None:
    options = services.ServeOptions(
        port=0, lambda_port=0, s3_port=0, stores_port=0, sqs_port=0, auth=False
    )
    opened = list(services.open_all(real, options))
    try:
        text = banner.text(real, opened, samples(ROOT), built=False)
    finally:
        for service in opened:
            service.stop()
    assert "Auth        OFF (--auth none): ANY CALLER" in text
    assert "default authorizer is AWS_IAM" in text
    assert "--aws-sigv4" not in text
