"""Which local python plays Lambda's `python3.X` runtime.

Source mode runs the function on this environment's packages, so it must be this
interpreter. Built mode needs an interpreter of the runtime's version (the layer holds
cp312 wheels); a python3.11 stands in with a warning when no python3.12 exists.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Interpreter:
    executable: str
    version: tuple[int, int]
    warning: str | None = None


@cache
def _version_of(executable: str) -> tuple[int, int] | None:
    """The (major, minor) an executable really runs (pyenv shims may point elsewhere)."""
    try:
        out = subprocess.run(
            [executable, "-I", "-S", "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        ).stdout.split()
        return int(out[0]), int(out[1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def _candidates(version: tuple[int, int]) -> list[str]:
    name = f"python{version[0]}.{version[1]}"
    home = os.path.expanduser("~")
    found = [sys.executable]
    for pattern in (
        f"{home}/.pyenv/versions/{version[0]}.{version[1]}*/bin/{name}",
        f"/usr/local/bin/{name}",
        f"/usr/bin/{name}",
    ):
        found.extend(sorted(glob.glob(pattern), reverse=True))
    on_path = shutil.which(name)
    if on_path:
        found.append(on_path)
    return found


def find(version: tuple[int, int], own_packages: bool) -> Interpreter:
    """An interpreter for the runtime `version`.

    own_packages: the function imports this environment's packages (source mode), so only
    this interpreter can run it.
    """
    runtime = f"python{version[0]}.{version[1]}"
    mine = sys.version_info[:2]
    if own_packages:
        warning = None
        if mine != version:
            warning = (
                f"the template asks for {runtime}; running with this environment's "
                f"python{mine[0]}.{mine[1]}, whose packages the function imports"
            )
        return Interpreter(sys.executable, (mine[0], mine[1]), warning)
    for executable in _candidates(version):
        if _version_of(executable) == version:
            return Interpreter(executable, version)
    fallback = (version[0], version[1] - 1)
    for executable in _candidates(fallback):
        if _version_of(executable) == fallback:
            warning = (
                f"no {runtime} interpreter found; falling back to {executable} "
                f"(python{fallback[0]}.{fallback[1]}): compiled wheels built for {runtime} "
                "will not load"
            )
            return Interpreter(executable, fallback, warning)
    return Interpreter(
        sys.executable, (mine[0], mine[1]), f"no {runtime} found; using {sys.executable}"
    )
