"""Assignment of a request to a version: 10,000 buckets, a precomputed table of versions.

A sticky caller key maps to a bucket through SHA-256 of (model, key): the same caller gets
the same version in every container, after every cold start or SnapStart restore, and in
every language that can compute SHA-256 (never Python's `hash()`, salted per process).
The table is built once per policy, so assigning a request is one hash (or one random
draw) and one tuple index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

BUCKETS = 10_000


def sticky_bucket(model: str, key: str) -> int:
    """The bucket 0..9999 of a caller key for this model, identical in every process."""
    digest = hashlib.sha256(f"{model}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def bucket_table(split: Sequence[tuple[str, float]]) -> tuple[str, ...]:
    """10,000 versions laid out in split order, each version's share of the buckets.

    Shares are rounded by largest remainder, so they add up to exactly 10,000 and a version
    with a positive weight of at least 1/10,000 of the total always gets a bucket. Versions
    keep contiguous ranges in split order: moving 10 points from one version to the next
    moves only the callers in the buckets between them.
    """
    total = sum(weight for _, weight in split)
    if total <= 0:
        raise ValueError("split weights must have a positive total")
    exact = [weight / total * BUCKETS for _, weight in split]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(split)), key=lambda i: exact[i] - counts[i], reverse=True)
    for i in by_remainder[: BUCKETS - sum(counts)]:
        counts[i] += 1
    table: list[str] = []
    for (version, _), count in zip(split, counts, strict=True):
        table.extend([version] * count)
    return tuple(table)
