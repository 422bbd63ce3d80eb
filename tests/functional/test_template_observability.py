"""template.yaml declares the observability parts: log retention, feedback table, capture
pipeline, alarms and dashboard, each covering every function or model it should."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.local import template
from lambdaserve.observability import names
from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return template.load_document(ROOT / "template.yaml")


def _of_type(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == kind}


def _model_functions(doc: dict[str, Any]) -> dict[str, str]:
    """model name -> logical id of its function."""
    return {
        f["Properties"]["Environment"]["Variables"]["MODEL_NAME"]: logical_id
        for logical_id, f in _of_type(doc, "AWS::Serverless::Function").items()
        if "MODEL_NAME" in (f["Properties"].get("Environment") or {}).get("Variables", {})
    }


def test_every_function_has_a_log_group_with_retention(doc: dict[str, Any]) -> None:
    groups = _of_type(doc, "AWS::Logs::LogGroup")
    named = {
        g["Properties"]["LogGroupName"]["Fn::Sub"]: g
        for g in groups.values()
        if "LogGroupName" in g["Properties"]
    }
    for logical_id in _of_type(doc, "AWS::Serverless::Function"):
        assert f"/aws/lambda/${{{logical_id}}}" in named, f"{logical_id} has no log group"
    for group in groups.values():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_feedback_table_is_on_demand_encrypted_with_ttl(doc: dict[str, Any]) -> None:
    table = doc["Resources"]["FeedbackTable"]
    props = table["Properties"]
    assert table["Condition"] == "FeedbackOn"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": "inference_id", "KeyType": "HASH"}]
    env = doc["Globals"]["Function"]["Environment"]["Variables"]
    assert env["LAMBDASERVE_FEEDBACK_TABLE"] == {
        "Fn::If": ["FeedbackOn", {"Ref": "FeedbackTable"}, ""]
    }


def test_only_model_functions_may_write_and_read_predictions(doc: dict[str, Any]) -> None:
    policy = doc["Resources"]["FeedbackAccessPolicy"]["Properties"]
    roles = {r["Ref"] for r in policy["Roles"]}
    assert roles == {f"{f}Role" for f in _model_functions(doc).values()}
    [statement] = policy["PolicyDocument"]["Statement"]
    assert sorted(statement["Action"]) == ["dynamodb:BatchGetItem", "dynamodb:PutItem"]
    assert statement["Resource"] == {"Fn::GetAtt": ["FeedbackTable", "Arn"]}


def test_capture_ships_every_model_log_group_to_s3_by_model_and_version(
    doc: dict[str, Any],
) -> None:
    resources = doc["Resources"]
    stream = resources["CaptureDeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    assert stream["Prefix"] == (
        "capture/!{partitionKeyFromQuery:model}/!{partitionKeyFromQuery:version}/"
        "!{timestamp:yyyy/MM/dd/HH}/"
    )
    processors = [p["Type"] for p in stream["ProcessingConfiguration"]["Processors"]]
    assert processors[:3] == ["Decompression", "CloudWatchLogProcessing", "MetadataExtraction"]
    query = stream["ProcessingConfiguration"]["Processors"][2]["Parameters"][0]["ParameterValue"]
    # The partition keys are the capture record's own fields.
    assert ".eventMetadata.model" in query and ".eventMetadata.modelVersion" in query
    filters = {
        f["Properties"]["LogGroupName"]["Ref"]: f["Properties"]
        for f in _of_type(doc, "AWS::Logs::SubscriptionFilter").values()
    }
    for logical_id in _model_functions(doc).values():
        subscription = filters[f"{logical_id}Logs"]
        assert subscription["DestinationArn"] == {"Fn::GetAtt": ["CaptureDeliveryStream", "Arn"]}
        assert '$.eventVersion = "0"' in subscription["FilterPattern"]


def test_alarms_cover_every_model_and_the_batch_function(
    doc: dict[str, Any], repository: ModelRepository
) -> None:
    alarms = _of_type(doc, "AWS::CloudWatch::Alarm")

    def watched(alarm: dict[str, Any]) -> set[tuple[str, str]]:
        props = alarm["Properties"]
        stats = [props] + [
            m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m
        ]
        return {(s["Namespace"], s["MetricName"]) for s in stats if "MetricName" in s}

    functions = _model_functions(doc)
    for model in repository.names():
        mine = {
            k: v
            for k, v in alarms.items()
            if v["Properties"]["AlarmDescription"].startswith(f"{model} - ")
        }
        kinds = set().union(*(watched(a) for a in mine.values()))
        quality = (
            names.PREDICTION_CORRECT
            if repository.manifest(model, repository.versions(model)[0]).is_classifier
            else names.ABSOLUTE_ERROR
        )
        assert {
            ("lambdaserve", names.ERRORS_5XX),
            ("lambdaserve", names.REQUESTS),
            ("lambdaserve", names.LATENCY),
            ("AWS/Lambda", "Throttles"),
            ("lambdaserve", quality),
        } <= kinds, model
        throttle = next(a for a in mine.values() if ("AWS/Lambda", "Throttles") in watched(a))
        assert throttle["Properties"]["Dimensions"][0]["Value"] == {"Ref": functions[model]}
    everything = set().union(*(watched(a) for a in alarms.values()))
    assert ("lambdaserve", names.BATCH_JOB_FAILURES) in everything
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in everything


def test_dashboard_shows_every_model_on_the_emitted_metrics(
    doc: dict[str, Any], repository: ModelRepository
) -> None:
    body = doc["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    dashboard = json.loads(body.replace("${AWS::Region}", "us-east-1"))
    emitted = {v for k, v in vars(names).items() if k.isupper() and isinstance(v, str)}
    searched = set()
    for widget in dashboard["widgets"]:
        for metric in widget.get("properties", {}).get("metrics", []):
            expression = metric[0].get("expression") if isinstance(metric[0], dict) else None
            if expression:
                # One line per model, found by SEARCH: adding or removing a model
                # (lambdaserve add-model / remove-model) needs no dashboard edit.
                found = re.fullmatch(
                    r"SEARCH\('\{lambdaserve,model\} MetricName=\"(\w+)\"', '\w+', \d+\)",
                    expression,
                )
                assert found, expression
                searched.add(found.group(1))
            elif metric[0] != "...":
                assert metric[1] == "." or metric[1] in emitted, metric
    assert (
        {
            names.REQUESTS,
            names.ERRORS_5XX,
            names.LATENCY,
            names.INFERENCE_LATENCY,
            names.PREDICTION_CORRECT,
            names.ABSOLUTE_ERROR,
            names.CACHE_HITS,
        }
        <= searched
        <= emitted
    )
    assert not any(f'"{model}"' in body for model in repository.names())
    assert not re.search(r"\$\{(?!AWS::Region\})", body)
