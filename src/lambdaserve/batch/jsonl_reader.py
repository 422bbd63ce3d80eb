"""JSON Lines blocks -> feature matrix, passthrough objects and row errors.

Each line is an object with the model's features by name (other keys pass through) or
an array of the features in model order. Values must be JSON numbers. The first
non-blank line decides whether the file is JSON Lines at all: if it is not a JSON object
or array the whole input is rejected, later bad lines are only row errors. A byte range
that starts later in the file has no such first line: every bad line is a row error.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson

from lambdaserve.batch.blocks import Block, ParsedBlock, RowError, UnreadableInput, excerpt

JsonlBlock = ParsedBlock[list[dict[str, Any]]]


class JsonlReader:
    """A block is parsed whole by `prepare`, on the reading thread; `finish` (beside the
    model) has nothing left to do, and the model's thread formats the output instead."""

    parses_elsewhere = False
    dtype: Any = np.float32  # of the feature matrix (a text model's reader: object)

    def __init__(self, feature_names: Sequence[str], *, starts_input: bool = True) -> None:
        self.names = tuple(feature_names)
        self._names = frozenset(self.names)
        self._started = not starts_input  # past the input's first line

    def prepare(self, block: Block) -> JsonlBlock:
        return self.parse(block)

    def finish(self, parsed: JsonlBlock) -> JsonlBlock:
        return parsed

    def parse(self, block: Block) -> JsonlBlock:
        features: list[list[float]] = []
        lines: list[int] = []
        passthrough: list[dict[str, Any]] = []
        errors: list[RowError] = []
        blanks = 0
        for offset, raw in enumerate(block.data.split(b"\n")[:-1]):
            if not raw.strip():
                blanks += 1
                continue
            line = block.first_line + offset
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                self._reject_first(line, f"it is not valid JSON ({exc})")
                errors.append(RowError(line, f"invalid JSON: {exc}", excerpt(raw)))
                continue
            if isinstance(value, dict):
                row, extra, reason = self._from_object(value)
            elif isinstance(value, list):
                row, extra, reason = self._from_array(value)
            else:
                self._reject_first(line, f"it is a JSON {type(value).__name__}")
                reason = f"expected a JSON object or array, found {json_type(value)}"
                row, extra = None, {}
            self._started = True
            if row is None:
                errors.append(RowError(line, reason, excerpt(raw)))
                continue
            features.append(row)
            lines.append(line)
            passthrough.append(extra)
        matrix = np.asarray(features, dtype=self.dtype).reshape(len(features), len(self.names))
        return ParsedBlock(matrix, np.asarray(lines, dtype=np.int64), passthrough, errors, blanks)

    def _reject_first(self, line: int, why: str) -> None:
        if not self._started:
            raise UnreadableInput(
                f"not JSON Lines: the first line ({line}) must be a JSON object or array, but {why}"
            )

    def _from_object(self, obj: dict[str, Any]) -> tuple[list[float] | None, dict[str, Any], str]:
        missing = [n for n in self.names if n not in obj]
        if missing:
            shown = ", ".join(repr(n) for n in missing[:8])
            more = f" and {len(missing) - 8} more" if len(missing) > 8 else ""
            return None, {}, f"missing feature(s): {shown}{more}"
        row = [obj[n] for n in self.names]
        reason = self._check(row)
        if reason:
            return None, {}, reason
        return row, {k: v for k, v in obj.items() if k not in self._names}, ""

    def _from_array(self, values: list[Any]) -> tuple[list[float] | None, dict[str, Any], str]:
        if len(values) != len(self.names):
            return None, {}, f"expected {len(self.names)} values, found {len(values)}"
        reason = self._check(values)
        return (None if reason else values), {}, reason

    def _check(self, row: list[Any]) -> str:
        for name, value in zip(self.names, row, strict=True):
            if value is None:
                return f"feature {name!r} is null (missing value)"
            if type(value) not in (int, float):
                shown = excerpt(orjson.dumps(value))
                return f"feature {name!r} is not a number: {json_type(value)} {shown}"
            if not math.isfinite(value) or abs(value) > 3.4e38:
                return f"feature {name!r} is out of the float32 range: {value}"
        return ""


def json_type(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        type(None): "null",
        int: "number",
        float: "number",
    }.get(type(value), type(value).__name__)
