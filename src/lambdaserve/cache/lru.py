"""A per-container LRU of neutral outputs, bounded by entries and bytes, with a TTL.

Never above either bound; when a store crosses the entry bound, the least recently used
sixteenth goes at once (see `_evict`).

Lambda runs one request at a time per container, but the local server and tests may not:
a lock keeps the bookkeeping whole (uncontended, it costs well under a microsecond).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

import numpy as np

from lambdaserve.cache.key import CacheKey, key_bytes

# Dict, key and array headers of one entry, beyond the arrays' own bytes.
ENTRY_OVERHEAD_BYTES = 512


def outputs_nbytes(outputs: Mapping[str, np.ndarray]) -> int:
    """Bytes an entry holds; object arrays (strings) count their text too."""
    total = ENTRY_OVERHEAD_BYTES
    for name, array in outputs.items():
        total += len(name) + array.nbytes
        if array.dtype.kind == "O":
            total += _text_bytes(array)
    return total


def _text_bytes(array: np.ndarray) -> int:
    return sum(len(v) if isinstance(v, str | bytes) else 64 for v in array.flat)


class LruCache:
    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        ttl_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        # key -> (expires at, outputs, size in bytes); most recently used last.
        self._entries: OrderedDict[CacheKey, tuple[float, dict[str, np.ndarray], int]] = (
            OrderedDict()
        )
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        return self._bytes

    def get(self, key: CacheKey) -> dict[str, np.ndarray] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= self._clock():
                self._drop(key)
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: CacheKey, outputs: dict[str, np.ndarray]) -> bool:
        """Store an entry; False if it can never fit.

        Its arrays become read-only either way: every later hit shares them, so nobody
        may mutate them (and an answer that was never stored is not mutated either).
        """
        size = ENTRY_OVERHEAD_BYTES + key_bytes(key)
        for name, array in outputs.items():  # outputs_nbytes, in the same pass
            size += len(name) + array.nbytes
            if array.dtype.kind == "O":
                size += _text_bytes(array)
            array.setflags(write=False)
        if size > self.max_bytes or self.max_entries <= 0:
            return False
        entries = self._entries
        with self._lock:
            old = entries.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            entries[key] = (self._clock() + self.ttl_seconds, outputs, size)
            self._bytes += size
            if len(entries) > self.max_entries or self._bytes > self.max_bytes:
                self._evict()
        return True

    def _evict(self) -> None:
        """Drop least recently used entries until both bounds hold, with room to spare on
        the entry bound: 1/16 of it (none below 16 entries).

        A full cache of 1,024 entries then drops 65 at once, every 64th store, instead of
        one on every store. An evicted entry is memory no recent request touched, so
        dropping it costs a miss several times what the store itself does; now most
        misses pay none of it. The byte bound is kept exactly (what a store adds varies).
        """
        entries = self._entries
        keep = self.max_entries - self.max_entries // 16
        while entries and (len(entries) > keep or self._bytes > self.max_bytes):
            self._drop(next(iter(entries)))

    def clear(self) -> None:
        """Forget everything, e.g. after a SnapStart restore (TTLs were measured before it)."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def _drop(self, key: CacheKey) -> None:
        _, _, size = self._entries.pop(key)
        self._bytes -= size
