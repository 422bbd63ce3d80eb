"""The local Lambda Invoke API, driven by boto3 as the index function's forwarder drives it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from lambdaserve.local import lambda_api, server
from lambdaserve.local.runtime import LocalLambda

pytestmark = pytest.mark.slow  # starts function processes


@pytest.fixture
def client(runtime: LocalLambda) -> Iterator[Any]:
    api = server.bind("127.0.0.1", 0, lambda_api.handler_for(runtime), "Lambda API", "--port")
    server.serve_in_thread(api, "lambda-api-test")
    yield boto3.client(
        "lambda",
        endpoint_url=server.url(api),
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(retries={"max_attempts": 0}),
    )
    server.stop(api)


def test_invoke_returns_the_payload(client: Any) -> None:
    result = client.invoke(FunctionName="Echo", Payload=b'{"hello": "world"}')
    assert result["StatusCode"] == 200
    assert "FunctionError" not in result
    assert result["ExecutedVersion"] == "$LATEST"
    assert json.loads(result["Payload"].read())["event"] == {"hello": "world"}


def test_invoke_by_arn(client: Any) -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:Echo"
    result = client.invoke(FunctionName=arn, Payload=b"{}")
    assert json.loads(result["Payload"].read())["function_name"] == "Echo"


def test_handler_error_is_unhandled_function_error(client: Any) -> None:
    result = client.invoke(FunctionName="Boom", Payload=b'{"why": "x"}')
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] == "ValueError" and error["errorMessage"] == "boom: x"


def test_unknown_function_and_bad_payload_are_client_errors(client: Any) -> None:
    with pytest.raises(ClientError) as unknown:
        client.invoke(FunctionName="Nope", Payload=b"{}")
    assert unknown.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as bad:
        client.invoke(FunctionName="Echo", Payload=b"{not json")
    assert bad.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_event_and_dry_run_invocations(client: Any) -> None:
    assert (
        client.invoke(FunctionName="Echo", InvocationType="Event", Payload=b"{}")["StatusCode"]
        == 202
    )
    assert client.invoke(FunctionName="Echo", InvocationType="DryRun")["StatusCode"] == 204
    with pytest.raises(ClientError):
        client.invoke(FunctionName="Nope", InvocationType="DryRun")
