"""The summary record's JSON: what a consumer reads first, so its shape is the contract."""

from __future__ import annotations

from lambdaserve.batch.summary import FAILED, SUCCEEDED, RowCounts, Summary


def test_a_succeeded_summary_names_input_model_rows_outputs_and_timing() -> None:
    summary = Summary(
        "bucket",
        "incoming/iris/a.csv",
        status=SUCCEEDED,
        model="iris",
        model_version="1",
        format="csv",
        etag="abc",
        size=120,
        rows=RowCounts(read=10, predicted=8, failed=2, blank_lines=1),
        outputs={"predictions": {"key": "results/iris/a.csv", "etag": "e", "bytes": 9, "rows": 8}},
        started_at=1_700_000_000.0,
        duration_seconds=2.0,
        request_id="req-1",
        note="never written",
    )
    assert summary.to_json() == {
        "status": "succeeded",
        "input": {
            "bucket": "bucket",
            "key": "incoming/iris/a.csv",
            "etag": "abc",
            "version_id": None,
            "size": 120,
            "format": "csv",
            "compression": None,
        },
        "model": {"name": "iris", "version": "1"},
        "rows": {"read": 10, "predicted": 8, "failed": 2, "blank_lines": 1},
        "outputs": {
            "predictions": {"key": "results/iris/a.csv", "etag": "e", "bytes": 9, "rows": 8}
        },
        "error": None,
        "started_at": "2023-11-14T22:13:20.000+00:00",
        "finished_at": "2023-11-14T22:13:22.000+00:00",
        "duration_seconds": 2.0,
        "rows_per_second": 5,
        "request_id": "req-1",
    }
    assert not summary.failed


def test_a_summary_starts_failed_and_a_zero_duration_has_no_rate() -> None:
    summary = Summary("bucket", "incoming/x")
    assert summary.status == FAILED and summary.failed
    written = summary.to_json()
    assert written["rows_per_second"] is None
    assert written["rows"] == {"read": 0, "predicted": 0, "failed": 0, "blank_lines": 0}
