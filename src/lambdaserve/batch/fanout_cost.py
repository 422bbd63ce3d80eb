"""What a fan-out job cost, estimated from its measured shard durations (for the summary).

Prices: us-east-1, on-demand x86_64, no free tier (bench/prices.json has the sources).
Step Functions Standard bills state transitions; each Distributed Map child execution
of our one-Task item processor takes about 3 (start, task, end), the parent about 8.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

LAMBDA_GB_SECOND = 0.0000166667
LAMBDA_REQUEST = 0.20 / 1_000_000
STATE_TRANSITION = 0.025 / 1000
TRANSITIONS_PER_SHARD = 3
TRANSITIONS_PER_JOB = 8


def memory_gb() -> float:
    """The function's memory (Lambda sets the variable; 3,538 MB, our default, elsewhere)."""
    return int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3538")) / 1024


def estimate(
    shard_seconds: Sequence[float], other_seconds: float, gb: float | None = None
) -> dict[str, float]:
    """USD of the shards' Lambda time, the dispatch/compose invocations, and the workflow."""
    gb = memory_gb() if gb is None else gb
    shards = len(shard_seconds)
    lambda_usd = (sum(shard_seconds) + other_seconds) * gb * LAMBDA_GB_SECOND
    requests_usd = (shards + 2) * LAMBDA_REQUEST
    workflow_usd = (shards * TRANSITIONS_PER_SHARD + TRANSITIONS_PER_JOB) * STATE_TRANSITION
    return {
        "lambda_usd": round(lambda_usd, 6),
        "requests_usd": round(requests_usd, 6),
        "step_functions_usd": round(workflow_usd, 6),
        "total_usd": round(lambda_usd + requests_usd + workflow_usd, 6),
        "memory_gb": round(gb, 3),
    }
