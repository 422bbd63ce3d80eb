"""Checks that a log line is a valid Embedded Metric Format document, for any test.

The JSON schema (emf_schema.json) covers the document's shape; the specification's rules
that a schema cannot express (every referenced member exists on the root, dimension
targets are strings, metric targets are numbers or arrays of at most 100 numbers) are
checked here too.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_PATH = Path(__file__).with_name("emf_schema.json")


@cache
def _validator() -> Any:
    from jsonschema import Draft7Validator

    schema = json.loads(SCHEMA_PATH.read_text())
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema)


def validate_emf(doc: dict[str, Any]) -> None:
    """Raise AssertionError unless `doc` is a valid EMF document."""
    errors = sorted(_validator().iter_errors(doc), key=str)
    assert not errors, f"not an EMF document: {errors[0].message} at {list(errors[0].path)}"
    for directive in doc["_aws"]["CloudWatchMetrics"]:
        for keys in directive["Dimensions"]:
            for key in keys:
                assert isinstance(doc.get(key), str) and doc[key], f"dimension {key!r} not a string"
        for metric in directive["Metrics"]:
            value = doc.get(metric["Name"])
            if isinstance(value, list):
                assert 0 < len(value) <= 100, f"metric {metric['Name']!r} has {len(value)} values"
                assert all(_number(v) for v in value), f"metric {metric['Name']!r} not numeric"
            else:
                assert _number(value), f"metric {metric['Name']!r} is {value!r}, not a number"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every JSON object line of captured output (other lines are skipped)."""
    records = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def emf_records(text: str) -> list[dict[str, Any]]:
    """The EMF documents among captured output lines, each validated."""
    found = [r for r in json_lines(text) if "_aws" in r]
    for record in found:
        validate_emf(record)
    return found


def metric_names(doc: dict[str, Any]) -> set[str]:
    return {m["Name"] for d in doc["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
