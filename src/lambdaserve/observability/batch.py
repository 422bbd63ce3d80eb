"""Batch job metrics: one EMF record per processed object, from its summary.

`BatchJobs`, `BatchJobFailures`, `BatchRowsRead`, `BatchRowsPredicted`, `BatchRowsFailed`
and `BatchJobDuration` (seconds), under no dimension (what the stack's batch alarm
watches), `model` and `model`+`version`. The model comes from the uploaded key, so it is a
dimension only when the repository knows it: an upload cannot mint metric dimensions.
The function's handler calls `record_job` with each job's summary (`Summary.to_json()`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from lambdaserve.observability import emf, names
from lambdaserve.observability.sink import LineWriter, write_stdout

FAILED = "failed"
SKIPPED = "skipped"


def job_document(
    summary: Mapping[str, Any], known_models: Collection[str]
) -> dict[str, Any] | None:
    """The record of one job (None for a skipped, repeated event: no work was done)."""
    status = summary.get("status")
    if status == SKIPPED:
        return None
    model = (summary.get("model") or {}).get("name")
    version = (summary.get("model") or {}).get("version")
    rows = summary.get("rows") or {}
    metrics: list[emf.Metric] = [
        (names.BATCH_JOBS, names.COUNT, 1.0),
        (names.BATCH_JOB_FAILURES, names.COUNT, 1.0 if status == FAILED else 0.0),
        (names.BATCH_ROWS_READ, names.COUNT, float(rows.get("read") or 0)),
        (names.BATCH_ROWS_PREDICTED, names.COUNT, float(rows.get("predicted") or 0)),
        (names.BATCH_ROWS_FAILED, names.COUNT, float(rows.get("failed") or 0)),
        (names.BATCH_JOB_DURATION, names.SECONDS, float(summary.get("duration_seconds") or 0)),
    ]
    dims: dict[str, str] = {}
    sets: list[tuple[str, ...]] = [()]
    if isinstance(model, str) and model in known_models:
        dims[names.MODEL] = model
        sets.append(names.BY_MODEL)
        if isinstance(version, str) and version:
            dims[names.VERSION] = version
            sets.append(names.BY_VERSION)
    source = summary.get("input") or {}
    properties = {
        "level": "ERROR" if status == FAILED else "INFO",
        "message": "batch job",
        "service": "lambdaserve",
        "status": status,
        "input": f"s3://{source.get('bucket')}/{source.get('key')}",
        "error": summary.get("error"),
        "function_request_id": summary.get("request_id"),
    }
    return emf.document(dims, sets, metrics, properties)


def record_job(
    summary: Mapping[str, Any], known_models: Collection[str], write: LineWriter = write_stdout
) -> None:
    doc = job_document(summary, known_models)
    if doc is not None:
        write(emf.dumps(doc))
