"""The doorkeeper: an input is admitted on its second miss; memory bounded, then forgotten."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.cache.admission import Doorkeeper


def test_admitted_the_second_time() -> None:
    door = Doorkeeper(8)
    assert door.admit(("m", "1", b"a")) is False
    assert door.admit(("m", "1", b"b")) is False
    assert door.admit(("m", "1", b"a")) is True
    assert door.admit(("m", "2", b"a")) is False  # another version is another input


def test_full_memory_is_forgotten_at_once() -> None:
    door = Doorkeeper(3)
    for key in (b"a", b"b", b"c"):
        assert not door.admit(key)
    assert not door.admit(b"d")  # full: everything before is forgotten, d remembered
    assert not door.admit(b"a")
    assert door.admit(b"d")


def test_clear_forgets() -> None:
    door = Doorkeeper(8)
    door.admit(b"x")
    door.clear()
    assert not door.admit(b"x")


@given(st.lists(st.binary(max_size=4), max_size=60), st.integers(1, 16))
def test_admits_exactly_what_it_still_remembers(keys: list[bytes], capacity: int) -> None:
    door = Doorkeeper(capacity)
    remembered: set[bytes] = set()
    for key in keys:
        expected = key in remembered  # no collisions among distinct short byte strings here
        assert door.admit(key) is expected
        if not expected:
            if len(remembered) >= capacity:
                remembered.clear()
            remembered.add(key)
