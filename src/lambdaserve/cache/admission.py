"""Cache admission: an input is stored the second time it misses, not the first.

Most inputs of a model with continuous features are never sent twice. Storing every one
costs each miss more than its lookup does (the store, and later the eviction of an entry
no recent request touched), and pushes repeated inputs out of the cache in favour of
one-off ones. A doorkeeper, as in TinyLFU, remembers the hashes of inputs that missed
once; an input that misses again is admitted, and its third request is a hit. It holds at
most `capacity` hashes and forgets them all when full, so an input has to come back
within about that many misses. A hash collision only admits an input one miss early: the
cache itself compares whole keys.
"""

from __future__ import annotations

from collections.abc import Hashable


class Doorkeeper:
    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._seen: set[int] = set()

    def admit(self, key: Hashable) -> bool:
        """Whether `key` missed before (then it is stored); else remember it, and no."""
        digest = hash(key)
        seen = self._seen
        if digest in seen:
            return True
        if len(seen) >= self.capacity:
            seen.clear()
        seen.add(digest)
        return False

    def clear(self) -> None:
        self._seen.clear()
