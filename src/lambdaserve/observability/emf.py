"""CloudWatch Embedded Metric Format documents, built lean: a dict, one orjson call, one line.

An EMF document is a JSON log line whose `_aws.CloudWatchMetrics` directive tells CloudWatch
Logs which root members are metrics (and under which dimensions); every other root member
stays a searchable log field. So one line per request is both its structured log record
and its metrics, with no API call. Powertools' Metrics builds the same documents, but at
~20x the cost per request (see README, Observability); it serves the per-job and
per-feedback records, this module the per-request ones.

Rules from the EMF specification enforced here: at most 100 metrics per directive and 100
values per metric, at most 9 keys per dimension set, dimension targets are non-empty
strings on the root, metric targets are numbers (non-finite values are dropped: JSON has
no NaN), timestamps are integer milliseconds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson

from lambdaserve.observability.names import NAMESPACE

MAX_METRICS = 100
MAX_VALUES = 100
MAX_DIMENSION_KEYS = 9
MAX_DIMENSION_VALUE = 1024  # CloudWatch's limit on a dimension value

Metric = tuple[str, str, float]  # name, unit, value

# Directives are shared between documents: the same (names, units) build the same list.
_DEFINITIONS: dict[tuple[tuple[str, str], ...], list[dict[str, str]]] = {}


def _definitions(key: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    found = _DEFINITIONS.get(key)
    if found is None:
        if len(key) > MAX_METRICS:
            raise ValueError(f"an EMF directive holds at most {MAX_METRICS} metrics")
        found = _DEFINITIONS[key] = [{"Name": n, "Unit": u} for n, u in key]
    return found


def dimension_value(value: str) -> str:
    """A dimension value CloudWatch accepts: non-empty, at most 1,024 characters."""
    return (value or "unknown")[:MAX_DIMENSION_VALUE]


def document(
    dimensions: Mapping[str, str],
    dimension_sets: Sequence[Sequence[str]],
    metrics: Sequence[Metric],
    properties: Mapping[str, Any] | None = None,
    timestamp_ms: int | None = None,
    namespace: str = NAMESPACE,
) -> dict[str, Any]:
    """One EMF document: `properties` first, then the dimensions and metrics as root members."""
    doc: dict[str, Any] = dict(properties) if properties else {}
    kept: list[tuple[str, str]] = []
    for name, unit, value in metrics:
        if math.isfinite(value):
            doc[name] = value
            kept.append((name, unit))
    sets = []
    for keys in dimension_sets:
        if len(keys) > MAX_DIMENSION_KEYS:
            raise ValueError(f"a dimension set holds at most {MAX_DIMENSION_KEYS} keys")
        sets.append(list(keys))
    for key, dimension in dimensions.items():
        doc[key] = dimension_value(dimension)
    doc["_aws"] = {
        "Timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
        "CloudWatchMetrics": [
            {"Namespace": namespace, "Dimensions": sets, "Metrics": _definitions(tuple(kept))}
        ],
    }
    return doc


def series_documents(
    dimensions: Mapping[str, str],
    dimension_sets: Sequence[Sequence[str]],
    name: str,
    unit: str,
    values: Sequence[float],
    properties: Mapping[str, Any] | None = None,
    namespace: str = NAMESPACE,
) -> Iterator[dict[str, Any]]:
    """Many values of one metric, as documents of at most 100 values each (EMF's limit)."""
    finite = [float(v) for v in values if math.isfinite(v)]
    timestamp_ms = int(time.time() * 1000)
    for start in range(0, len(finite), MAX_VALUES):
        doc = document(dimensions, dimension_sets, (), properties, timestamp_ms, namespace)
        doc[name] = finite[start : start + MAX_VALUES]
        doc["_aws"]["CloudWatchMetrics"][0]["Metrics"] = _definitions(((name, unit),))
        yield doc


def dumps(doc: Mapping[str, Any]) -> str:
    """The document as one log line (no newline). orjson: several times faster than json."""
    return orjson.dumps(doc).decode()
