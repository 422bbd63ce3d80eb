"""The container's random generator for unsticky assignment and shadow sampling.

Seeded from the OS per container (never a fixed seed), and re-seeded after a SnapStart
restore: environments resumed from one snapshot would otherwise all draw the same sequence,
sending the same requests to the same versions everywhere.
"""

from __future__ import annotations

import os
import random

_generator = random.Random(os.urandom(32))


def generator() -> random.Random:
    return _generator


def reseed() -> None:
    """Fresh OS entropy (after a restore, or after a fork)."""
    _generator.seed(os.urandom(32))


os.register_at_fork(after_in_child=reseed)
