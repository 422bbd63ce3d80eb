"""A function's environment variables: Lambda's, the template's (with /opt mapped), endpoints."""

from __future__ import annotations

from pathlib import Path

from lambdaserve.local.layout import Mount
from lambdaserve.local.template import Function
from lambdaserve.local.variables import lambda_environment

FN = Function(
    "Fn",
    "app.handler",
    "python3.12",
    Path("/code"),
    memory=256,
    environment={"DATA": "/opt/data/x", "AWS_ENDPOINT_URL_S3": "https://s3.example"},
    log_format="JSON",
)
MOUNT = Mount(Path("/code"), (), {"/opt/data": Path("/local/data")})


def test_lambda_variables_template_values_and_local_endpoints() -> None:
    env = lambda_environment(
        FN, MOUNT, "eu-west-1", Path("/runtime"), {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}
    )
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"  # awslambdaric reads it
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_FORMAT"] == "JSON"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["_HANDLER"] == "app.handler" and env["LAMBDA_TASK_ROOT"] == "/code"
    assert env["DATA"] == "/local/data/x"  # /opt/data is a local directory here
    assert env["AWS_ENDPOINT_URL_S3"] == "http://127.0.0.1:1"  # the local service wins
    assert env["AWS_ACCESS_KEY_ID"] == "local"  # never the caller's credentials


def test_snap_start_initialization_type() -> None:
    env = lambda_environment(FN, MOUNT, "us-east-1", Path("/r"), {}, "snap-start")
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "snap-start"
