"""`lambdaserve serve` as a user runs it: a subprocess on free loopback ports, real HTTP."""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import boto3
import httpx
import pytest
from botocore.config import Config
from local_auth import SigV4, banner_credentials, without_aws_credentials

from lambdaserve.local.auth import sigv4

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events" / "api"
IRIS_ROW = [5.1, 3.5, 1.4, 0.2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[str]
    api: str
    lambda_api: str
    banner: list[str]
    log: Path

    def s3_url(self) -> str:
        line = next(line for line in self.banner if line.strip().startswith("S3 "))
        return line.split()[-1]

    def s3_client(self) -> Any:
        """A boto3 client for the local S3 server the banner announced."""
        return boto3.client(
            "s3",
            endpoint_url=self.s3_url(),
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def sqs_client(self) -> Any:
        """A boto3 client for the local SQS server the banner announced."""
        line = next(line for line in self.banner if line.strip().startswith("SQS "))
        return boto3.client(
            "sqs",
            endpoint_url=line.split()[-1],
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def _read_banner(stream: IO[str], lines: list[str], done: threading.Event) -> None:
    for line in stream:
        lines.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C"):
            done.set()
    done.set()


def start(cwd: Path, log: Path, *extra: str, env: dict[str, str] | None = None) -> Served:
    port, lambda_port = free_port(), free_port()
    args = ["serve", "--port", str(port), "--lambda-port", str(lambda_port)]
    args += ["--s3-port", "0", "--stores-port", "0", "--sqs-port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdaserve.cli", *args, *extra],
        cwd=cwd,
        # IAM routes: with no credentials around, serve signs with dummies it prints.
        env=without_aws_credentials() if env is None else env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    done = threading.Event()
    threading.Thread(target=_read_banner, args=(process.stdout, lines, done), daemon=True).start()
    if not done.wait(120) or process.poll() is not None:
        process.kill()
        raise AssertionError(f"serve did not start: {lines} {log.read_text()}")
    return Served(
        process, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{lambda_port}", lines, log
    )


def children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def stop(served: Served, sig: int = signal.SIGINT) -> int:
    served.process.send_signal(sig)
    return served.process.wait(timeout=120)  # every function process, two moto servers


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    running = start(ROOT, log)
    yield running
    if running.process.poll() is None:
        stop(running)


@pytest.fixture(scope="module")
def http(served: Served) -> Iterator[httpx.Client]:
    """Signed as the banner's curl examples are (every route needs IAM by default)."""
    auth = SigV4(banner_credentials(served.banner))
    with httpx.Client(base_url=served.api, timeout=120, auth=auth) as client:
        yield client


def test_banner_shows_every_endpoint_and_function(served: Served) -> None:
    text = "\n".join(served.banner)
    assert f"HTTP API    {served.api}" in text
    assert f"Lambda API  {served.lambda_api}" in text
    assert "  S3          http://127.0.0.1:" in text
    for function in (
        "IndexFunction",
        "IrisFunction",
        "BreastCancerFunction",
        "BatchPredictFunction",
    ):
        assert f"  {function} " in text
    assert "/models/breast_cancer" in text


def _commands(served: Served) -> list[list[str]]:
    tried = served.banner[served.banner.index("Try:") + 1 : -1]
    return [shlex.split(line) for line in tried]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_examples_from_the_banner_work(served: Served) -> None:
    """Run as printed: curl signs them (--aws-sigv4) with the credentials the banner shows."""
    curls = [c for c in _commands(served) if c[0] == "curl"]
    assert len([c for c in curls if "-X" in c]) == 3
    for curl in curls:
        assert "--aws-sigv4" in curl
        done = subprocess.run(
            [*curl, "-o", "/dev/null", "-w", "%{http_code}"], capture_output=True, text=True
        )
        assert done.stdout == "200", (curl, done.stdout, done.stderr)


def test_unsigned_or_badly_signed_requests_are_forbidden(served: Served) -> None:
    key = banner_credentials(served.banner)
    wrong = SigV4(sigv4.AccessKey(key.access_key, key.secret_key + "x"))
    with httpx.Client(base_url=served.api, timeout=120) as client:
        for auth in (None, wrong):
            for method, path in (("GET", "/health"), ("POST", "/models/iris/predict")):
                body = {"features": IRIS_ROW} if method == "POST" else None
                response = client.request(method, path, json=body, auth=auth)
                assert response.status_code == 403
                assert response.json() == {"message": "Forbidden"}
    assert "POST /models/iris/predict refused: signature does not match" in served.log.read_text()


def test_aws_examples_from_the_banner_work(served: Served) -> None:
    """The `aws lambda invoke` and `aws s3 cp` lines, run through boto3 with their arguments."""
    commands = [c for c in _commands(served) if c[0] == "aws"]
    invoke = next(c for c in commands if c[1:3] == ["lambda", "invoke"])
    client = boto3.client(
        "lambda",
        endpoint_url=invoke[invoke.index("--endpoint-url") + 1],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 0}, read_timeout=120),
    )
    payload = Path(invoke[invoke.index("--payload") + 1].removeprefix("file://"))
    result = client.invoke(
        FunctionName=invoke[invoke.index("--function-name") + 1],
        Payload=(ROOT / payload).read_bytes(),
    )
    assert "FunctionError" not in result
    assert json.loads(result["Payload"].read())["statusCode"] == 200
    upload = next(c for c in commands if "cp" in c)
    source, target = ROOT / upload[-2], upload[-1].removeprefix("s3://")
    bucket, key = target.split("/", 1)
    assert upload[upload.index("--endpoint-url") + 1] == served.s3_url()
    s3: Any = served.s3_client()
    s3.put_object(Bucket=bucket, Key=key, Body=source.read_bytes())
    listing = next(c for c in commands if "ls" in c)
    assert listing[-1] == f"s3://{bucket}/"


def test_health_and_simple_predict(http: httpx.Client) -> None:
    assert http.get("/health").json()["status"] == "healthy"
    response = http.post("/models/iris/predict", json={"features": IRIS_ROW})
    assert response.status_code == 200
    assert response.json()["label"] == "setosa"
    assert response.headers["apigw-requestid"]


def test_tf_serving_colon_path_goes_through_the_index_to_the_model(http: httpx.Client) -> None:
    response = http.post("/v1/models/iris:predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["label"] == 0


def test_tf_serving_version_path_is_owned_by_the_model_function(
    served: Served, http: httpx.Client
) -> None:
    response = http.post("/v1/models/iris/versions/1:predict", json={"instances": [IRIS_ROW]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"][0]["label"] == 0
    log = served.log.read_text()
    assert "[http] POST /v1/models/iris/versions/1:predict -> IrisFunction 200" in log
    assert "[http] POST /v1/models/iris:predict -> IndexFunction 200" in log


def test_open_inference_protocol(http: httpx.Client) -> None:
    body = json.loads(json.loads((EVENTS / "iris_v2_infer.json").read_text())["body"])
    response = http.post("/v2/models/iris/infer", json=body)
    assert response.status_code == 200, response.text
    outputs = {o["name"]: o for o in response.json()["outputs"]}
    assert outputs["label"]["data"] == [0]


def test_a_text_model_through_the_index_and_its_own_function(http: httpx.Client) -> None:
    texts = ["Excellent quality, highly recommend", "Arrived damaged, very disappointed"]
    simple = http.post("/models/reviews/predict", json={"instances": texts})
    assert simple.status_code == 200, simple.text
    assert [p["label"] for p in simple.json()["predictions"]] == ["positive", "negative"]
    tf = http.post("/v1/models/reviews:predict", json={"instances": texts})
    assert tf.status_code == 200, tf.text
    assert [p["label"] for p in tf.json()["predictions"]] == ["positive", "negative"]


def test_client_errors_come_from_the_functions(http: httpx.Client) -> None:
    unknown = http.post("/models/nope/predict", json={"features": [1]})
    assert unknown.status_code == 404
    assert "error" in unknown.json()
    bad = http.post("/models/iris/predict", json={"features": [1, 2]})
    assert bad.status_code == 400


def test_each_function_runs_in_its_own_warm_process(served: Served, http: httpx.Client) -> None:
    http.get("/health")
    http.post("/models/iris/predict", json={"features": IRIS_ROW})
    before = set(children(served.process.pid))
    assert len(before) >= 2  # at least the index and iris environments
    for _ in range(3):
        http.post("/models/iris/predict", json={"features": IRIS_ROW})
    assert set(children(served.process.pid)) == before  # warm: nothing new started


def test_lambda_invoke_api(served: Served) -> None:
    client = boto3.client(
        "lambda",
        endpoint_url=served.lambda_api,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 0}, read_timeout=120),
    )
    result = client.invoke(
        FunctionName="IrisFunction", Payload=(EVENTS / "iris_predict.json").read_bytes()
    )
    payload = json.loads(result["Payload"].read())
    assert payload["statusCode"] == 200
    assert json.loads(payload["body"])["label"] == "setosa"


def test_busy_port_is_a_clear_error(served: Served) -> None:
    port = served.api.rsplit(":", 1)[1]
    run = subprocess.run(
        [sys.executable, "-m", "lambdaserve.cli", "serve", "--port", port],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in run.stderr
    assert "--port PORT" in run.stderr
    assert "Traceback" not in run.stderr


PROJECT_HANDLER = """
import urllib.parse

import boto3



def boom(event, context):
    raise RuntimeError("kaput")


def hello(event, context):
    return {"statusCode": 200, "cookies": ["seen=1"], "body": "hello"}


def upper(event, context):
    s3 = boto3.client("s3")
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        s3.put_object(Bucket=bucket, Key=key.replace("incoming/", "results/"), Body=body.upper())
"""

PROJECT_TEMPLATE = """
Globals:
  Function:
    Runtime: python3.12
    CodeUri: src/
    Timeout: 30
Resources:
  Inbox:
    Type: AWS::S3::Bucket
  Boom:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.boom
      Events:
        Get: {Type: HttpApi, Properties: {Path: /boom, Method: GET}}
  Hello:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.hello
      Events:
        Get: {Type: HttpApi, Properties: {Path: /hello, Method: GET}}
  Upper:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.upper
      Events:
        Upload:
          Type: S3
          Properties:
            Bucket: !Ref Inbox
            Events: s3:ObjectCreated:*
            Filter: {S3Key: {Rules: [{Name: prefix, Value: incoming/}]}}
"""


def test_errors_s3_uploads_and_ctrl_c_on_a_small_project(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(PROJECT_HANDLER)
    (tmp_path / "template.yaml").write_text(PROJECT_TEMPLATE)
    (tmp_path / "samconfig.toml").write_text('[default.global.parameters]\nstack_name = "demo"\n')
    served = start(tmp_path, tmp_path / "serve.log")
    try:
        with httpx.Client(base_url=served.api, timeout=120) as client:
            boom = client.get("/boom")
            assert boom.status_code == 502
            assert boom.json() == {"message": "Internal Server Error"}
            hello = client.get("/hello")
            assert hello.text == "hello" and hello.headers["set-cookie"] == "seen=1"
            assert client.get("/missing").json() == {"message": "Not Found"}
        assert "s3://demo-inbox/incoming/* -> Upper" in "\n".join(served.banner)
        s3: Any = served.s3_client()
        s3.put_object(Bucket="demo-inbox", Key="incoming/iris/data.csv", Body=b"a,b\n1,2\n")
        deadline = time.monotonic() + 90
        body = None
        while body is None and time.monotonic() < deadline:
            try:
                body = s3.get_object(Bucket="demo-inbox", Key="results/iris/data.csv")["Body"]
            except s3.exceptions.NoSuchKey:
                time.sleep(0.3)
        assert body is not None, served.log.read_text()
        assert body.read() == b"A,B\n1,2\n"
        workers = children(served.process.pid)
        assert len(workers) == 3  # Boom, Hello and Upper each in their own process
    finally:
        code = stop(served, signal.SIGINT)
    assert code == 0  # serve waited for every environment it killed
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    log = served.log.read_text()
    assert "[Boom] [ERROR] RuntimeError: kaput" in log
    assert "S3 ObjectCreated:Put s3://demo-inbox/incoming/iris/data.csv" in log
    assert "Traceback (most recent call last)" in log  # the handler's, logged as Lambda logs it
    assert "KeyboardInterrupt" not in log
