"""A local executor of the Amazon States Language our state machines use, and nothing more.

moto's Step Functions records executions but does not run their tasks, so `lambdaserve
serve` runs the template's definitions here: Task states on `lambda:invoke` (over the
local Lambda runtime, its warm pools giving several concurrent instances), a Map with an
S3 `ItemReader` (JSON), `ItemSelector`, `MaxConcurrency[Path]` and a tolerated failure
threshold, Fail, Succeed and Pass; Parameters / ResultSelector with `.$` paths,
InputPath / ResultPath / OutputPath, Retry (interval, backoff, max delay, attempts) and
Catch, with the service's error names (`States.ALL`, `States.TaskFailed`,
`States.ExceedToleratedFailureThreshold`). `check` refuses anything else when the
definition is loaded, so a state machine never half-runs locally.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.errors import LocalError

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
S3_GET_OBJECT = "arn:aws:states:::s3:getObject"
MAP_CONCURRENCY_CAP = 64  # MaxConcurrency 0 ("as many as possible") on one machine

_COMMON = {"Type", "Comment", "Next", "End", "InputPath", "OutputPath"}
_FIELDS: dict[str, set[str]] = {
    "Task": _COMMON
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
    | {"TimeoutSeconds", "HeartbeatSeconds"},
    "Map": _COMMON
    | {"ItemReader", "ItemSelector", "ItemsPath", "ItemProcessor", "Iterator"}
    | {"MaxConcurrency", "MaxConcurrencyPath", "ToleratedFailurePercentage"}
    | {"ToleratedFailureCount", "ResultSelector", "ResultPath", "Retry", "Catch", "Label"},
    "Pass": _COMMON | {"Parameters", "Result", "ResultPath"},
    "Fail": {"Type", "Comment", "Error", "Cause", "ErrorPath", "CausePath"},
    "Succeed": {"Type", "Comment", "InputPath", "OutputPath"},
}

# (function name or ARN, payload) -> (response payload, function error type or None)
Invoke = Callable[[str, bytes], tuple[bytes, str | None]]
ReadObject = Callable[[str, str], bytes]  # (bucket, key) -> body
Log = Callable[[str], None]


class StatesError(Exception):
    """A failure as Step Functions names it: an error name and a cause."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def check(definition: Mapping[str, Any], where: str) -> None:
    """Refuse (LocalError) any state, field or resource this executor does not run."""
    states = definition.get("States")
    if not isinstance(states, dict) or definition.get("StartAt") not in states:
        raise LocalError(f"{where}: a definition needs States and a StartAt naming one of them")
    for name, state in states.items():
        here = f"{where}.{name}"
        kind = state.get("Type")
        if kind not in _FIELDS:
            raise LocalError(f"{here}: state type {kind!r} is not emulated locally")
        unknown = set(state) - _FIELDS[kind]
        if unknown:
            raise LocalError(f"{here}: {sorted(unknown)} not emulated locally")
        if kind == "Task" and state.get("Resource") != LAMBDA_INVOKE:
            raise LocalError(f"{here}: only {LAMBDA_INVOKE} tasks run locally")
        if kind == "Map":
            reader = state.get("ItemReader")
            if reader is not None and (
                reader.get("Resource") != S3_GET_OBJECT
                or (reader.get("ReaderConfig") or {}).get("InputType") != "JSON"
            ):
                raise LocalError(f"{here}: only an ItemReader of a JSON array in S3 runs locally")
            check(state.get("ItemProcessor") or state.get("Iterator") or {}, f"{here}.Items")
        for step in ("Next",):
            if step in state and state[step] not in states:
                raise LocalError(f"{here}: Next names no state: {state[step]!r}")


@dataclass
class Executor:
    invoke: Invoke
    read_object: ReadObject
    log: Log = lambda line: None
    sleep: Callable[[float], None] = time.sleep

    def run(self, definition: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        """Run `definition` on `data`; returns its output or raises StatesError."""
        states: Mapping[str, Any] = definition["States"]
        name: str = definition["StartAt"]
        while True:
            state = states[name]
            kind = state["Type"]
            if kind == "Fail":
                raise StatesError(_field(state, "Error", data), _field(state, "Cause", data))
            effective = _path(state.get("InputPath", "$"), data, context)
            try:
                output = self._attempts(name, state, data, effective, context)
            except StatesError as exc:
                caught = _catcher(state, exc)
                if caught is None:
                    raise
                data = _put(
                    data, caught.get("ResultPath", "$"), {"Error": exc.error, "Cause": exc.cause}
                )
                self.log(f"{name}: caught {exc.error}, next {caught['Next']}")
                name = caught["Next"]
                continue
            data = output
            if kind == "Succeed" or state.get("End"):
                return data
            name = state["Next"]

    def _attempts(
        self,
        name: str,
        state: Mapping[str, Any],
        data: Any,
        effective: Any,
        context: dict[str, Any],
    ) -> Any:
        tries: dict[int, int] = {}
        while True:
            try:
                return self._state(state, data, effective, context)
            except StatesError as exc:
                delay = _retry_delay(state, exc, tries)
                if delay is None:
                    raise
                self.log(f"{name}: {exc.error}, retrying in {delay:.1f}s")
                self.sleep(delay)

    def _state(
        self, state: Mapping[str, Any], data: Any, effective: Any, context: dict[str, Any]
    ) -> Any:
        kind = state["Type"]
        if kind == "Succeed":
            return _path(state.get("OutputPath", "$"), effective, context)
        if kind == "Pass":
            result = state.get(
                "Result", _fill(state.get("Parameters"), effective, context, effective)
            )
        elif kind == "Task":
            result = self._task(_fill(state.get("Parameters"), effective, context, effective))
        else:
            result = self._map(state, effective, context)
        if "ResultSelector" in state:
            result = _fill(state["ResultSelector"], result, context, result)
        merged = _put(data, state.get("ResultPath", "$"), result)
        return _path(state.get("OutputPath", "$"), merged, context)

    def _task(self, parameters: Any) -> Any:
        if not isinstance(parameters, dict) or "FunctionName" not in parameters:
            raise StatesError("States.Runtime", "lambda:invoke needs Parameters.FunctionName")
        payload = json.dumps(parameters.get("Payload", {})).encode()
        body, error = self.invoke(str(parameters["FunctionName"]), payload)
        if error is not None:
            raise StatesError(error, body.decode(errors="replace"))
        return {
            "ExecutedVersion": "$LATEST",
            "Payload": json.loads(body or b"null"),
            "StatusCode": 200,
        }

    def _map(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> list[Any]:
        items = self._items(state, data, context)
        processor = state.get("ItemProcessor") or state["Iterator"]
        limit = int(
            _path(state["MaxConcurrencyPath"], data, context)
            if "MaxConcurrencyPath" in state
            else state.get("MaxConcurrency", 0)
        )
        limit = min(limit or MAP_CONCURRENCY_CAP, MAP_CONCURRENCY_CAP, max(1, len(items)))
        tolerated = _tolerated(state, len(items))
        results: list[Any] = [None] * len(items)
        failures: list[tuple[int, StatesError]] = []
        lock = threading.Lock()
        stop = threading.Event()

        def one(index: int) -> None:
            if stop.is_set():
                return
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": items[index]}}}
            selector = state.get("ItemSelector")
            item = items[index] if selector is None else _fill(selector, data, item_context, data)
            try:
                results[index] = self.run(processor, item, item_context)
            except StatesError as exc:
                with lock:
                    failures.append((index, exc))
                    if len(failures) > tolerated:
                        stop.set()

        self.log(f"Map: {len(items)} items, {limit} at a time")
        with ThreadPoolExecutor(limit, thread_name_prefix="map-item") as pool:
            for done in [pool.submit(one, i) for i in range(len(items))]:
                done.result()
        if len(failures) > tolerated:
            index, first = min(failures, key=lambda f: f[0])
            raise StatesError(
                "States.ExceedToleratedFailureThreshold",
                f"{len(failures)} item(s) failed; item {index}: {first.error}: {first.cause}",
            )
        return results

    def _items(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> list[Any]:
        reader = state.get("ItemReader")
        if reader is None:
            items = _path(state.get("ItemsPath", "$"), data, context)
        else:
            where = _fill(reader.get("Parameters"), data, context, data)
            try:
                items = json.loads(self.read_object(str(where["Bucket"]), str(where["Key"])))
            except Exception as exc:  # S3 errors too: the Map fails, a Catch may take it
                raise StatesError(
                    "States.ItemReaderFailed", f"cannot read the items: {exc}"
                ) from exc
        if not isinstance(items, list):
            raise StatesError("States.ItemReaderFailed", "the items are not a JSON array")
        return items


def _tolerated(state: Mapping[str, Any], count: int) -> int:
    by_count = int(state.get("ToleratedFailureCount", 0))
    by_percent = int(count * float(state.get("ToleratedFailurePercentage", 0)) / 100)
    return max(by_count, by_percent)


def _matches(patterns: list[str], error: str) -> bool:
    return (
        error in patterns
        or "States.ALL" in patterns
        or ("States.TaskFailed" in patterns and error != "States.Timeout")
    )


def _retry_delay(state: Mapping[str, Any], exc: StatesError, tries: dict[int, int]) -> float | None:
    for index, retrier in enumerate(state.get("Retry") or []):
        if _matches(retrier.get("ErrorEquals", []), exc.error):
            done = tries.get(index, 0)
            if done >= int(retrier.get("MaxAttempts", 3)):
                return None
            tries[index] = done + 1
            delay = (
                float(retrier.get("IntervalSeconds", 1))
                * float(retrier.get("BackoffRate", 2.0)) ** done
            )
            return min(delay, float(retrier.get("MaxDelaySeconds", delay)))
    return None


def _catcher(state: Mapping[str, Any], exc: StatesError) -> Mapping[str, Any] | None:
    for catcher in state.get("Catch") or []:
        if _matches(catcher.get("ErrorEquals", []), exc.error):
            return dict(catcher)
    return None


def _field(state: Mapping[str, Any], name: str, data: Any) -> str:
    if f"{name}Path" in state:
        value = _path(state[f"{name}Path"], data, {})
        return value if isinstance(value, str) else json.dumps(value)
    return str(state.get(name, ""))


def _path(path: str | None, data: Any, context: Mapping[str, Any]) -> Any:
    """A reference path: `$`, `$.a.b`, or `$$.a.b` (the context object); None: {}."""
    if path is None:
        return {}
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    if not path.startswith("$") or (rest and not rest.startswith(".")):
        raise StatesError("States.Runtime", f"unsupported path {path!r} (use $.a.b)")
    value = root
    for part in filter(None, rest.split(".")):
        if not isinstance(value, dict) or part not in value:
            raise StatesError("States.Runtime", f"the path {path!r} matches nothing")
        value = value[part]
    return value


def _put(data: Any, path: str | None, result: Any) -> Any:
    """ResultPath: where the result goes in (a copy of) the state's input."""
    if path is None:
        return data
    if path == "$":
        return result
    parts = path[2:].split(".")
    top: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    node = top
    for part in parts[:-1]:
        child = node.get(part)
        node[part] = dict(child) if isinstance(child, dict) else {}
        node = node[part]
    node[parts[-1]] = result
    return top


def _fill(template: Any, data: Any, context: Mapping[str, Any], default: Any) -> Any:
    """Parameters / ItemSelector / ResultSelector: keys ending `.$` take a path's value."""
    if template is None:
        return default
    if isinstance(template, dict):
        filled: dict[str, Any] = {}
        for key, value in template.items():
            if key.endswith(".$"):
                if not isinstance(value, str) or value.startswith("States."):
                    raise StatesError(
                        "States.Runtime", f"{key}: intrinsic functions are not emulated"
                    )
                filled[key[:-2]] = _path(value, data, context)
            else:
                filled[key] = _fill(value, data, context, value)
        return filled
    if isinstance(template, list):
        return [_fill(v, data, context, v) for v in template]
    return template
