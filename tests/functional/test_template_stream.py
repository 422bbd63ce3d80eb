"""template.yaml's streaming block (issue 15): queues, redrive, mappings that report batch
item failures, the optional Kinesis stream and bus, and a role that reaches only those."""

from __future__ import annotations

from typing import Any

import pytest
from sam_translate import deployed

ON = {"StreamKinesis": "Enabled", "StreamEventBus": "Enabled"}


@pytest.fixture(scope="module")
def default() -> dict[str, Any]:
    resources: dict[str, Any] = deployed()["Resources"]
    return resources


@pytest.fixture(scope="module")
def everything() -> dict[str, Any]:
    resources: dict[str, Any] = deployed(ON)["Resources"]
    return resources


def statements(resources: dict[str, Any]) -> list[dict[str, Any]]:
    role = resources["StreamPredictFunctionRole"]["Properties"]
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_the_input_queue_redrives_to_an_encrypted_dead_letter_queue(
    default: dict[str, Any],
) -> None:
    queue = default["StreamInputQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]
    }
    assert queue["RedrivePolicy"]["maxReceiveCount"] == 3
    # Longer than 6 function timeouts plus the batching window (AWS's advice).
    timeout = default["StreamPredictFunction"]["Properties"]["Timeout"]
    assert queue["VisibilityTimeout"] >= 6 * timeout + 300
    for name in ("StreamInputQueue", "StreamOutputQueue", "StreamDeadLetterQueue"):
        assert default[name]["Properties"]["SqsManagedSseEnabled"] is True


def test_the_queue_mapping_reports_item_failures_with_its_parameters(
    default: dict[str, Any],
) -> None:
    mapping = default["StreamQueueMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["StreamInputQueue", "Arn"]}
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (100, 1)
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": 10}
    tuned = deployed(
        {"StreamBatchSize": "50", "StreamBatchingWindowSeconds": "5", "StreamMaxConcurrency": "4"}
    )["Resources"]["StreamQueueMapping"]["Properties"]
    assert (tuned["BatchSize"], tuned["MaximumBatchingWindowInSeconds"]) == ("50", "5")
    assert tuned["ScalingConfig"] == {"MaximumConcurrency": "4"}


def test_kinesis_and_the_bus_exist_only_when_enabled(
    default: dict[str, Any], everything: dict[str, Any]
) -> None:
    optional = {
        "StreamInputStream": "StreamKinesisOn",
        "StreamKinesisMapping": "StreamKinesisOn",
        "StreamPredictionBus": "StreamEventBusOn",
    }
    for name, condition in optional.items():
        assert default[name]["Condition"] == condition
    # Language extensions fold the parameter into each condition; CloudFormation decides.
    folded = deployed()["Conditions"]
    assert folded["StreamKinesisOn"] == {"Fn::Equals": ["Disabled", "Enabled"]}
    assert deployed(ON)["Conditions"]["StreamEventBusOn"] == {"Fn::Equals": ["Enabled", "Enabled"]}
    env = default["StreamPredictFunction"]["Properties"]["Environment"]["Variables"]
    assert env["LAMBDASERVE_STREAM_EVENT_BUS"] == ""
    assert env["LAMBDASERVE_STREAM_OUTPUT_QUEUE"] == {"Ref": "StreamOutputQueue"}
    env = everything["StreamPredictFunction"]["Properties"]["Environment"]["Variables"]
    assert env["LAMBDASERVE_STREAM_EVENT_BUS"] == {"Ref": "StreamPredictionBus"}


def test_the_kinesis_mapping_checkpoints_without_bisecting(everything: dict[str, Any]) -> None:
    stream = everything["StreamInputStream"]["Properties"]
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    mapping = everything["StreamKinesisMapping"]["Properties"]
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is False
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]
    }


def test_the_role_reaches_only_the_streaming_resources(
    default: dict[str, Any], everything: dict[str, Any]
) -> None:
    for resources in (default, everything):
        role = resources["StreamPredictFunctionRole"]["Properties"]
        assert not any("SQS" in arn or "Kinesis" in arn for arn in role["ManagedPolicyArns"])
        for statement in statements(resources):
            assert statement["Effect"] == "Allow"
            assert "*" not in str(statement["Resource"]), statement
            actions = statement["Action"]
            assert not any("*" in a for a in ([actions] if isinstance(actions, str) else actions))
    by_sid = {s["Sid"]: s for s in statements(everything)}
    assert by_sid["WriteResults"]["Action"] == "sqs:SendMessage"
    assert by_sid["PutResults"]["Resource"] == {"Fn::GetAtt": ["StreamPredictionBus", "Arn"]}
    assert by_sid["ReadStream"]["Resource"] == {"Fn::GetAtt": ["StreamInputStream", "Arn"]}
    assert {"PutResults", "ReadStream"}.isdisjoint(s["Sid"] for s in statements(default))
