"""The index function's forwarding of TF Serving colon paths to model functions."""

from __future__ import annotations

import io

import orjson
import pytest

from lambdaserve.forward import Forwarder

FUNCTIONS = {"iris": "IrisFunction", "breast_cancer": "BreastCancerFunction"}


def event(path: str) -> dict[str, object]:
    return {"rawPath": path, "body": "{}", "requestContext": {"http": {"method": "POST"}}}


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/v1/models/iris:predict", "IrisFunction"),
        ("/v1/models/breast_cancer:classify", "BreastCancerFunction"),
        ("/v1/models/nope:predict", None),
        ("/v1/models/iris", None),
        ("/v1/models/iris/versions/1:predict", None),  # owned directly by the model's route
        ("/models/iris/predict", None),
        ("/v1/models/iris:predict/extra", None),
    ],
)
def test_target_only_for_colon_paths_of_known_models(path: str, target: str | None) -> None:
    assert Forwarder(FUNCTIONS).target(event(path)) == target


def test_forwards_the_untouched_event_and_returns_the_response() -> None:
    seen: list[tuple[str, dict[str, object]]] = []

    def invoke(function: str, payload: bytes) -> tuple[bytes, str | None]:
        seen.append((function, orjson.loads(payload)))
        return orjson.dumps({"statusCode": 200, "body": "{}"}), None

    ev = event("/v1/models/iris:predict")
    assert Forwarder(FUNCTIONS, invoke)("IrisFunction", ev) == {"statusCode": 200, "body": "{}"}
    assert seen == [("IrisFunction", ev)]


def test_function_errors_become_502_json() -> None:
    def failing(function: str, payload: bytes) -> tuple[bytes, str | None]:
        return b'{"errorMessage": "boom", "errorType": "RuntimeError"}', "Unhandled"

    def unreachable(function: str, payload: bytes) -> tuple[bytes, str | None]:
        raise ConnectionError("no route to host")

    def garbage(function: str, payload: bytes) -> tuple[bytes, str | None]:
        return b"not json", None

    for invoker, message in [
        (failing, "model function failed"),
        (unreachable, "model function unavailable"),
        (garbage, "model function returned an invalid response"),
    ]:
        result = Forwarder(FUNCTIONS, invoker)("IrisFunction", event("/v1/models/iris:predict"))
        assert result["statusCode"] == 502
        assert orjson.loads(result["body"]) == {"error": message}


@pytest.mark.parametrize("raw", ["[1]", "nope", '"x"'])
def test_bad_function_map_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="LAMBDASERVE_MODEL_FUNCTIONS"):
        Forwarder.from_json(raw)


@pytest.mark.parametrize("alias", ["live", ""])
def test_forwarding_invokes_the_alias(alias: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Invoke request botocore would send names the alias as its Qualifier."""
    import boto3
    from botocore.response import StreamingBody
    from botocore.stub import Stubber

    client = boto3.client("lambda", region_name="us-east-1")
    ev = event("/v1/models/iris:predict")
    answer = b'{"statusCode": 200, "body": "{}"}'
    expected: dict[str, object] = {"FunctionName": "IrisFunction", "Payload": orjson.dumps(ev)}
    if alias:
        expected["Qualifier"] = alias
    stubber = Stubber(client)
    stubber.add_response(
        "invoke",
        {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(answer), len(answer))},
        expected,
    )
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    forwarder = Forwarder.from_json('{"iris": "IrisFunction"}', alias)
    with stubber:
        assert forwarder("IrisFunction", ev) == {"statusCode": 200, "body": "{}"}
    stubber.assert_no_pending_responses()
