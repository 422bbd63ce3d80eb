"""The local States Language executor: the states, paths, retries and catches our machines use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lambdaserve.local.errors import LocalError
from lambdaserve.local.states import LAMBDA_INVOKE, Executor, StatesError, check
from lambdaserve.local.template import load

ROOT = Path(__file__).resolve().parents[3]


class Functions:
    """Handlers by name, called as the local runtime would (JSON in, JSON or error out)."""

    def __init__(self, **handlers: Any) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, Any]] = []

    def invoke(self, name: str, payload: bytes) -> tuple[bytes, str | None]:
        event = json.loads(payload)
        self.calls.append((name, event))
        try:
            return json.dumps(self.handlers[name](event)).encode(), None
        except Exception as exc:
            body = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return json.dumps(body).encode(), type(exc).__name__


def task(function: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": LAMBDA_INVOKE,
        "Parameters": {"FunctionName": function, "Payload.$": "$"},
        **fields,
    }


def executor(functions: Functions, objects: dict[tuple[str, str], bytes] | None = None) -> Executor:
    return Executor(
        functions.invoke, lambda b, k: (objects or {})[(b, k)], sleep=lambda seconds: None
    )


class Flaky(Exception):
    pass


def test_retry_then_success_and_result_selector() -> None:
    attempts = {"n": 0}

    def flaky(event: dict[str, Any]) -> dict[str, Any]:
        attempts["n"] += 1
        if attempts["n"] < 3:
            raise Flaky("not yet")
        return {"doubled": event["x"] * 2}

    definition = {
        "StartAt": "T",
        "States": {
            "T": task(
                "f",
                Retry=[{"ErrorEquals": ["Flaky"], "MaxAttempts": 2}],
                ResultSelector={"value.$": "$.Payload.doubled"},
                ResultPath="$.out",
                End=True,
            )
        },
    }
    check(definition, "test")
    out = executor(Functions(f=flaky)).run(definition, {"x": 21}, {})
    assert out == {"x": 21, "out": {"value": 42}} and attempts["n"] == 3


def test_catch_routes_the_error_and_fail_names_its_cause() -> None:
    def broken(event: dict[str, Any]) -> None:
        raise ValueError("bad shard 3")

    definition = {
        "StartAt": "T",
        "States": {
            "T": task(
                "f",
                Catch=[{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Clean"}],
                End=True,
            ),
            "Clean": task(
                "clean", ResultSelector={"why.$": "$.Payload"}, ResultPath="$.result", Next="Failed"
            ),
            "Failed": {"Type": "Fail", "Error": "JobFailed", "CausePath": "$.result.why"},
        },
    }
    functions = Functions(f=broken, clean=lambda event: event["error"]["Error"])
    with pytest.raises(StatesError) as failed:
        executor(functions).run(definition, {"job": 1}, {})
    assert (failed.value.error, failed.value.cause) == ("JobFailed", "ValueError")
    assert functions.calls[1][1]["error"]["Cause"].startswith('{"errorType": "ValueError"')


def map_definition(tolerated: int = 0) -> dict[str, Any]:
    return {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket.$": "$.where.b", "Key.$": "$.where.k"},
                },
                "ItemSelector": {"job.$": "$.job", "item.$": "$$.Map.Item.Value"},
                "MaxConcurrencyPath": "$.limit",
                "ToleratedFailurePercentage": tolerated,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "W",
                    "States": {"W": task("w", OutputPath=None, End=True)},
                },
                "ResultPath": None,
                "End": True,
            }
        },
    }


def test_map_reads_items_from_s3_and_runs_each_with_the_job() -> None:
    seen: list[Any] = []

    def work(event: dict[str, Any]) -> str:
        seen.append((event["job"], event["item"]))
        return "x" * 1000  # discarded: OutputPath null, ResultPath null

    objects = {("bkt", "m.json"): json.dumps([{"i": i} for i in range(10)]).encode()}
    data = {"where": {"b": "bkt", "k": "m.json"}, "job": "J", "limit": 3}
    out = executor(Functions(w=work), objects).run(map_definition(), data, {})
    assert out == data
    assert sorted(i["i"] for _, i in seen) == list(range(10)) and {j for j, _ in seen} == {"J"}


def test_map_with_zero_tolerance_fails_on_one_item() -> None:
    def work(event: dict[str, Any]) -> None:
        if event["item"]["i"] == 4:
            raise Flaky("shard 4 is bad")

    objects = {("bkt", "m.json"): json.dumps([{"i": i} for i in range(6)]).encode()}
    data = {"where": {"b": "bkt", "k": "m.json"}, "job": "J", "limit": 1}
    with pytest.raises(StatesError) as failed:
        executor(Functions(w=work), objects).run(map_definition(), data, {})
    assert failed.value.error == "States.ExceedToleratedFailureThreshold"
    assert "item 4: Flaky" in failed.value.cause and "shard 4 is bad" in failed.value.cause
    # Tolerating a third of the items lets it succeed.
    executor(Functions(w=work), objects).run(map_definition(tolerated=34), data, {})


def test_a_missing_manifest_is_an_item_reader_failure() -> None:
    data = {"where": {"b": "bkt", "k": "gone.json"}, "job": "J", "limit": 1}
    with pytest.raises(StatesError, match="ItemReaderFailed"):
        executor(Functions()).run(map_definition(), data, {})


@pytest.mark.parametrize(
    "state",
    [
        {"Type": "Wait", "Seconds": 1, "End": True},
        {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage", "End": True},
        {"Type": "Pass", "Assign": {}, "End": True},
    ],
)
def test_anything_else_is_refused_when_loaded(state: dict[str, Any]) -> None:
    with pytest.raises(LocalError, match=r"not emulated locally|only"):
        check({"StartAt": "S", "States": {"S": state}}, "machine")


def test_the_templates_fanout_machine_is_runnable_locally() -> None:
    machine = load(ROOT / "template.yaml").state_machines["BatchFanout"]
    check(machine.definition, machine.logical_id)
    processor = machine.definition["States"]["ScoreShards"]["ItemProcessor"]
    function = processor["States"]["ScoreShard"]["Parameters"]["FunctionName"]
    assert function.endswith(":function:BatchPredictFunction")  # the substitution applied
    assert machine.arn.endswith(":stateMachine:" + machine.name)
