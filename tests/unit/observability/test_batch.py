from __future__ import annotations

from typing import Any

import pytest
from emf_spec import emf_records, metric_names

from lambdaserve.observability.batch import job_document, record_job


def _summary(status: str, model: str, version: str | None, **rows: int) -> dict[str, Any]:
    return {
        "status": status,
        "input": {"bucket": "b", "key": f"incoming/{model}/x.csv"},
        "model": {"name": model, "version": version},
        "rows": {"read": 0, "predicted": 0, "failed": 0, **rows},
        "error": None if status == "succeeded" else "column 'x' is missing",
        "duration_seconds": 1.25,
        "request_id": "req-9",
    }


def test_a_job_is_one_record_under_all_three_dimension_sets() -> None:
    lines: list[str] = []
    summary = _summary("succeeded", "iris", "1", read=200, predicted=198, failed=2)
    record_job(summary, {"iris"}, lines.append)
    [doc] = emf_records("\n".join(lines))
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [
        [],
        ["model"],
        ["model", "version"],
    ]
    assert metric_names(doc) == {
        "BatchJobs",
        "BatchJobFailures",
        "BatchRowsRead",
        "BatchRowsPredicted",
        "BatchRowsFailed",
        "BatchJobDuration",
    }
    assert (doc["BatchRowsRead"], doc["BatchRowsPredicted"], doc["BatchRowsFailed"]) == (
        200,
        198,
        2,
    )
    assert (doc["BatchJobs"], doc["BatchJobFailures"], doc["BatchJobDuration"]) == (1, 0, 1.25)
    assert (doc["model"], doc["version"], doc["level"]) == ("iris", "1", "INFO")
    assert doc["input"] == "s3://b/incoming/iris/x.csv" and doc["function_request_id"] == "req-9"


def test_a_failed_job_of_an_unknown_model_mints_no_dimension() -> None:
    lines: list[str] = []
    record_job(_summary("failed", "made-up-by-uploader", None), {"iris"}, lines.append)
    [doc] = emf_records("\n".join(lines))
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[]]
    assert "model" not in doc and doc["BatchJobFailures"] == 1 and doc["level"] == "ERROR"
    assert doc["error"] == "column 'x' is missing"


@pytest.mark.parametrize("version", [None, ""])
def test_a_known_model_without_a_resolved_version_is_counted_by_model(version: Any) -> None:
    doc = job_document(_summary("failed", "iris", version), {"iris"})
    assert doc is not None
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [[], ["model"]]


def test_a_skipped_repeated_event_is_not_a_job() -> None:
    lines: list[str] = []
    record_job(_summary("skipped", "iris", "1"), {"iris"}, lines.append)
    assert lines == []
