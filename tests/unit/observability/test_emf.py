from __future__ import annotations

import json
import math

import pytest
from emf_spec import metric_names, validate_emf
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.observability import emf, names


def _request_doc(**properties: object) -> dict[str, object]:
    return emf.document(
        {names.MODEL: "iris", names.VERSION: "1"},
        (names.BY_MODEL, names.BY_VERSION),
        [(names.REQUESTS, names.COUNT, 1.0), (names.LATENCY, names.MILLISECONDS, 0.42)],
        properties,
        timestamp_ms=1_700_000_000_123,
    )


def test_document_is_valid_emf_with_targets_on_the_root() -> None:
    doc = json.loads(emf.dumps(_request_doc(route="predict", status=200)))
    validate_emf(doc)
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "lambdaserve"
    assert directive["Dimensions"] == [["model"], ["model", "version"]]
    assert directive["Metrics"] == [
        {"Name": "Requests", "Unit": "Count"},
        {"Name": "Latency", "Unit": "Milliseconds"},
    ]
    assert doc["_aws"]["Timestamp"] == 1_700_000_000_123
    assert (doc["model"], doc["version"], doc["Requests"], doc["Latency"]) == (
        "iris",
        "1",
        1.0,
        0.42,
    )
    # Other members stay plain log fields.
    assert (doc["route"], doc["status"]) == ("predict", 200)


def test_non_finite_values_are_dropped_not_written_as_null() -> None:
    doc = emf.document(
        {names.MODEL: "iris"},
        (names.BY_MODEL,),
        [(names.REQUESTS, names.COUNT, 1.0), (names.LATENCY, names.MILLISECONDS, math.nan)],
    )
    parsed = json.loads(emf.dumps(doc))
    validate_emf(parsed)
    assert "Latency" not in parsed and metric_names(parsed) == {"Requests"}


def test_dimension_values_are_never_empty_or_too_long() -> None:
    doc = emf.document({names.MODEL: "", names.VERSION: "v" * 5000}, (names.BY_VERSION,), [])
    validate_emf(json.loads(emf.dumps(doc)))
    assert doc["model"] == "unknown" and len(doc["version"]) == 1024


def test_limits_of_the_specification_are_refused() -> None:
    with pytest.raises(ValueError, match="100 metrics"):
        emf.document({}, ((),), [(f"m{i}", names.COUNT, 1.0) for i in range(101)])
    with pytest.raises(ValueError, match="9 keys"):
        emf.document({}, ([f"d{i}" for i in range(10)],), [])


@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=0, max_size=350))
def test_series_are_split_into_documents_of_at_most_100_values(values: list[float]) -> None:
    docs = [
        json.loads(emf.dumps(d))
        for d in emf.series_documents(
            {names.MODEL: "iris", names.VERSION: "2"},
            (names.BY_MODEL, names.BY_VERSION),
            names.PREDICTION_CORRECT,
            names.NONE,
            values,
            {"message": "feedback"},
        )
    ]
    for doc in docs:
        validate_emf(doc)
        assert metric_names(doc) == {"PredictionCorrect"}
    finite = [v for v in values if math.isfinite(v)]
    assert [v for d in docs for v in d["PredictionCorrect"]] == finite
    assert len(docs) == math.ceil(len(finite) / 100)


def test_the_checker_refuses_what_the_specification_forbids() -> None:
    good = json.loads(emf.dumps(_request_doc()))
    missing_target = json.loads(json.dumps(good))
    del missing_target["Latency"]
    string_metric = {**good, "Requests": "1"}
    numeric_dimension = {**good, "version": 1}
    float_timestamp = {**good, "_aws": {**good["_aws"], "Timestamp": 1.5}}
    bad_unit = json.loads(json.dumps(good))
    bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = "Requests"
    for doc in (missing_target, string_metric, numeric_dimension, float_timestamp, bad_unit):
        with pytest.raises(AssertionError):
            validate_emf(doc)
