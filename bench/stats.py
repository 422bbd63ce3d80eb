"""Latency samples and their summaries (percentiles in microseconds)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Summary:
    n: int
    p50_us: float
    p90_us: float
    p99_us: float
    mean_us: float

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "p50_us": round(self.p50_us, 1),
            "p90_us": round(self.p90_us, 1),
            "p99_us": round(self.p99_us, 1),
            "mean_us": round(self.mean_us, 1),
        }


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    if not sorted_values:
        raise ValueError("no samples")
    rank = max(1, round(q / 100 * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(seconds: list[float]) -> Summary:
    values = sorted(s * 1e6 for s in seconds)
    return Summary(
        n=len(values),
        p50_us=percentile(values, 50),
        p90_us=percentile(values, 90),
        p99_us=percentile(values, 99),
        mean_us=statistics.fmean(values),
    )


def time_calls(call: Callable[[], Any], n: int) -> list[float]:
    """Wall time of n calls, one sample per call."""
    clock = time.perf_counter
    samples = []
    for _ in range(n):
        start = clock()
        call()
        samples.append(clock() - start)
    return samples


def interleaved(
    subjects: dict[str, Callable[[], Any]], n: int, block: int = 50
) -> dict[str, Summary]:
    """Time every subject n times in alternating blocks, so machine noise hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in subjects}
    done = 0
    while done < n:
        size = min(block, n - done)
        for name, call in subjects.items():
            samples[name].extend(time_calls(call, size))
        done += size
    return {name: summarize(values) for name, values in samples.items()}
