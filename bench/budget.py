"""How much each section measures: the full run, and a quick one for the smoke test."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    warm_calls: int = 2000  # per subject, single-row (issue: at least 2,000)
    seed_calls: int = 300  # the seed app is ~100x slower; its p50 settles well before this
    cold_runs: int = 7  # fresh processes per subject (issue: at least 5)
    batch_rows: int = 1000  # rows per batch request
    batch_requests: int = 60
    job_rows: int = 200_000  # S3 batch job input (issue: 200,000 x 30 CSV)
    quick: bool = False


FULL = Budget()
QUICK = Budget(
    warm_calls=30,
    seed_calls=3,
    cold_runs=1,
    batch_rows=50,
    batch_requests=3,
    job_rows=2_000,
    quick=True,
)
