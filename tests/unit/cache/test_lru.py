"""The per-container LRU: recency, entry and byte bounds, TTL, read-only entries."""

from __future__ import annotations

import numpy as np
import pytest

from lambdaserve.cache.key import CacheKey
from lambdaserve.cache.lru import ENTRY_OVERHEAD_BYTES, LruCache, outputs_nbytes


def k(raw: bytes) -> CacheKey:
    """A cache key whose input bytes are `raw`."""
    return ("m", "1", None, (("input", "<f4", (1,), raw),))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def outputs(value: float, size: int = 2) -> dict[str, np.ndarray]:
    return {"probabilities": np.full((1, size), value, dtype=np.float32)}


def test_hit_returns_the_stored_outputs_read_only() -> None:
    cache = LruCache(4, 1 << 20, 60)
    stored = outputs(0.5)
    assert cache.put(k(b"k"), stored)
    got = cache.get(k(b"k"))
    assert got is stored
    with pytest.raises(ValueError):
        got["probabilities"][0, 0] = 1.0
    assert cache.get(k(b"missing")) is None


def test_least_recently_used_goes_first_when_entries_overflow() -> None:
    cache = LruCache(2, 1 << 20, 60)
    cache.put(k(b"a"), outputs(1))
    cache.put(k(b"b"), outputs(2))
    assert cache.get(k(b"a")) is not None  # a is now the most recent
    cache.put(k(b"c"), outputs(3))
    assert cache.get(k(b"b")) is None
    assert cache.get(k(b"a")) is not None and cache.get(k(b"c")) is not None
    assert len(cache) == 2


def test_a_full_large_cache_drops_its_least_recent_sixteenth_at_once() -> None:
    cache = LruCache(64, 1 << 20, 60)
    for i in range(64):
        cache.put(k(i.to_bytes(2, "little")), outputs(i))
    assert cache.get(k((0).to_bytes(2, "little"))) is not None  # 0 becomes the most recent
    sizes = []
    for i in range(64, 64 + 8):
        cache.put(k(i.to_bytes(2, "little")), outputs(i))
        sizes.append(len(cache))
    # the first overflowing store drops 5 (65 -> 60), the next four fill the room again
    assert sizes == [60, 61, 62, 63, 64, 60, 61, 62]
    kept = {i for i in range(72) if cache.get(k(i.to_bytes(2, "little"))) is not None}
    assert 0 in kept and 1 not in kept and {64, 65, 66, 67, 68, 69, 70, 71} <= kept
    assert max(sizes) <= cache.max_entries


def test_byte_bound_evicts_and_refuses_what_can_never_fit() -> None:
    one = outputs_nbytes(outputs(0, size=100)) + 1  # + the key's one input byte
    assert one == ENTRY_OVERHEAD_BYTES + len("probabilities") + 400 + 1
    cache = LruCache(100, 2 * one, 60)
    for i in range(5):
        assert cache.put(k(bytes([i])), outputs(i, size=100))
        assert cache.nbytes <= 2 * one
    assert len(cache) == 2
    assert cache.get(k(bytes([4]))) is not None and cache.get(k(bytes([0]))) is None
    assert not cache.put(k(b"huge"), outputs(0, size=10_000))
    assert cache.get(k(b"huge")) is None


def test_entries_expire_after_the_ttl() -> None:
    clock = Clock()
    cache = LruCache(4, 1 << 20, 30, clock=clock)
    cache.put(k(b"k"), outputs(1))
    clock.now += 29.9
    assert cache.get(k(b"k")) is not None
    clock.now += 0.2
    assert cache.get(k(b"k")) is None
    assert len(cache) == 0 and cache.nbytes == 0


def test_replacing_a_key_keeps_the_byte_count_true() -> None:
    cache = LruCache(4, 1 << 20, 60)
    cache.put(k(b"k"), outputs(1, size=10))
    cache.put(k(b"k"), outputs(2, size=1000))
    assert len(cache) == 1
    assert cache.nbytes == outputs_nbytes(outputs(0, size=1000)) + 1
    cache.clear()
    assert len(cache) == 0 and cache.nbytes == 0


def test_zero_entries_stores_nothing() -> None:
    cache = LruCache(0, 1 << 20, 60)
    assert not cache.put(k(b"k"), outputs(1))
    assert cache.get(k(b"k")) is None
