from __future__ import annotations

import re

from lambdaserve.observability import ids


def test_ids_are_32_hex_characters_and_do_not_repeat() -> None:
    drawn = [ids.new_id() for _ in range(20_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in drawn)
    assert len(set(drawn)) == len(drawn)


def test_a_reseed_starts_a_fresh_sequence() -> None:
    state = ids._random.getstate()
    first = [ids.new_id() for _ in range(3)]
    ids._random.setstate(state)  # what a restored snapshot would replay
    ids.reseed()
    assert [ids.new_id() for _ in range(3)] != first
