"""The hashed runtime lock is the plain pins of requirements.in, every wheel hashed."""

from __future__ import annotations

import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import lock_runtime  # noqa: E402

# Packages with compiled code ship one wheel per architecture.
NATIVE = {"numpy", "onnxruntime", "pydantic-core", "orjson"}


def locked() -> dict[str, tuple[Requirement, list[str]]]:
    """Canonical name -> (pin, hashes), read the way pip reads the lock (continued lines)."""
    text = (lock_runtime.RUNTIME / "requirements.txt").read_text().replace("\\\n", " ")
    out: dict[str, tuple[Requirement, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *options = line.split()
        assert all(o.startswith("--hash=sha256:") for o in options), line
        hashes = [o.removeprefix("--hash=sha256:") for o in options]
        req = Requirement(spec)
        out[canonicalize_name(req.name)] = (req, hashes)
    return out


def test_lock_pins_exactly_the_plain_requirements() -> None:
    plain = lock_runtime.pins()
    lock = locked()
    assert sorted(lock) == sorted(plain)
    for name, (req, _) in lock.items():
        assert str(req.specifier) == str(plain[name].specifier)
        assert str(req.specifier).startswith("==")


def test_every_pin_is_hashed_and_native_ones_per_architecture() -> None:
    for name, (_, hashes) in locked().items():
        assert hashes, name
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes), name
        assert len(set(hashes)) == len(hashes)
        if name in NATIVE:
            assert len(hashes) >= len(lock_runtime.MACHINES), name


def test_pyproject_reads_the_plain_pins() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    files = project["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert files == ["layers/runtime/requirements.in"]
