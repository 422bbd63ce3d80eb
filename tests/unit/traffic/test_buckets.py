"""Sticky buckets: exact shares, stable across processes and hash seeds, contiguous ranges."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.traffic.buckets import BUCKETS, bucket_table, sticky_bucket

KEYS = [f"user-{i}" for i in range(10_000)]


def test_table_has_exact_shares_in_split_order() -> None:
    table = bucket_table([("1", 90), ("2", 10)])
    assert len(table) == BUCKETS
    assert Counter(table) == {"1": 9_000, "2": 1_000}
    assert table[8_999] == "1" and table[9_000] == "2"


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=12))
def test_shares_always_add_up_and_follow_the_weights(weights: list[float]) -> None:
    if sum(weights) <= 0:
        with pytest.raises(ValueError, match="positive total"):
            bucket_table([(str(i), w) for i, w in enumerate(weights)])
        return
    table = bucket_table([(str(i), w) for i, w in enumerate(weights)])
    counts = Counter(table)
    assert len(table) == BUCKETS
    for i, weight in enumerate(weights):
        exact = weight / sum(weights) * BUCKETS
        assert abs(counts.get(str(i), 0) - exact) < 1  # largest remainder: off by < 1 bucket


def test_split_fractions_over_10000_keys_are_within_tolerance() -> None:
    table = bucket_table([("1", 90), ("2", 10)])
    counts = Counter(table[sticky_bucket("breast_cancer", key)] for key in KEYS)
    # Binomial(10,000, 0.1): sd = 30; 4 sd either side fails a correct hash 1 time in 15,000.
    assert abs(counts["2"] - 1_000) < 120
    three = bucket_table([("1", 50), ("2", 30), ("3", 20)])
    counts = Counter(three[sticky_bucket("m", key)] for key in KEYS)
    for version, share in (("1", 0.5), ("2", 0.3), ("3", 0.2)):
        sd = (10_000 * share * (1 - share)) ** 0.5
        assert abs(counts[version] - 10_000 * share) < 4 * sd


def test_buckets_are_uniform_over_10000_keys() -> None:
    # Ten equal ranges of buckets, each should get ~1,000 keys (chi-square, 9 dof).
    counts = Counter(sticky_bucket("iris", key) * 10 // BUCKETS for key in KEYS)
    chi2 = sum((counts[d] - 1_000) ** 2 / 1_000 for d in range(10))
    assert chi2 < 33.7  # p = 0.0001


def test_the_model_is_part_of_the_key() -> None:
    same = sum(sticky_bucket("a", k) == sticky_bucket("b", k) for k in KEYS[:1000])
    assert same < 10


def test_assignment_is_identical_in_fresh_processes_with_other_hash_seeds() -> None:
    code = (
        "from lambdaserve.traffic.buckets import sticky_bucket\n"
        "print(','.join(str(sticky_bucket('breast_cancer', f'user-{i}')) for i in range(500)))\n"
    )
    here = ",".join(str(sticky_bucket("breast_cancer", f"user-{i}")) for i in range(500))
    for seed in ("0", "1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == here


def test_known_values_pin_the_hash() -> None:
    # SHA-256(model + NUL + key), first 8 bytes big-endian, modulo 10,000: any language can
    # reproduce these. If they change, every sticky caller is reassigned on deploy.
    assert sticky_bucket("breast_cancer", "user-42") == 9502
    assert sticky_bucket("breast_cancer", "alice") == 26
    assert sticky_bucket("breast_cancer", "") == 7318
    assert sticky_bucket("iris", "user-42") == 2690
