from __future__ import annotations

import sys

from lambdaserve.local import interpreter


def test_source_mode_uses_this_interpreter() -> None:
    mine = (sys.version_info[0], sys.version_info[1])
    found = interpreter.find(mine, own_packages=True)
    assert found.executable == sys.executable and found.warning is None
    other = interpreter.find((3, mine[1] + 1), own_packages=True)
    assert other.executable == sys.executable
    assert other.warning is not None and f"python3.{mine[1] + 1}" in other.warning


def test_built_mode_finds_an_interpreter_of_the_runtime_version() -> None:
    mine = (sys.version_info[0], sys.version_info[1])
    found = interpreter.find(mine, own_packages=False)
    assert found.version == mine and found.warning is None
    assert interpreter._version_of(found.executable) == mine


def test_missing_version_falls_back_with_a_warning() -> None:
    found = interpreter.find((3, 99), own_packages=False)
    assert found.warning is not None and "python3.99" in found.warning
    assert interpreter._version_of("/nonexistent/python") is None
