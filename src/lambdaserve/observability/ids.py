"""Inference ids: 128 random bits as 32 hex characters (uuid4().hex's shape), no syscall.

`uuid.uuid4()` reads the OS's entropy on every call: a system call per request, which on
a busy host cost ~55 µs here, more than the rest of the request record. A private
generator seeded from OS entropy once per container draws the same 128 bits in well under
a microsecond. Its own instance, so code seeding the global `random` cannot make ids
repeat; reseeded after a SnapStart restore, so restored containers never share a sequence
(`reseed` is registered by the metrics stage).
"""

from __future__ import annotations

import os
import random

_random = random.Random(os.urandom(32))


def new_id() -> str:
    return f"{_random.getrandbits(128):032x}"


def reseed() -> None:
    _random.seed(os.urandom(32))
