"""The container generator: different per process and per restore, never a fixed sequence."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lambdaserve.traffic import rng


def draws(n: int = 8) -> list[float]:
    return [rng.generator().random() for _ in range(n)]


def test_reseed_changes_the_sequence_a_restored_snapshot_would_repeat() -> None:
    state = rng.generator().getstate()
    first = draws()
    rng.generator().setstate(state)  # what every environment restored from one snapshot holds
    assert draws() == first
    rng.generator().setstate(state)
    rng.reseed()
    assert draws() != first


def test_fresh_processes_draw_different_sequences() -> None:
    code = "from lambdaserve.traffic import rng; print(rng.generator().random())"
    seen = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for _ in range(3)
    }
    assert len(seen) == 3


@pytest.mark.filterwarnings("ignore:This process.*multi-threaded:DeprecationWarning")
def test_a_forked_child_reseeds() -> None:  # the child only draws and exits: no lock taken
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its first draw
        os.write(write, repr(rng.generator().random()).encode())
        os._exit(0)
    os.close(write)
    state = rng.generator().getstate()
    parent = rng.generator().random()
    rng.generator().setstate(state)
    os.waitpid(pid, 0)
    child = float(os.read(read, 64))
    os.close(read)
    assert child != parent
