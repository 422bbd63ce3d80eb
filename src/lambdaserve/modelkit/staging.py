"""All-or-nothing changes to the repository, template and events.

Everything is first written beside its target (same filesystem), then moved into place
in one sweep; if any step fails, the steps already done are undone in reverse. A refused
or failing import leaves the repository and the template as they were.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType


class Transaction:
    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []
        self._cleanup: list[Path] = []

    def __enter__(self) -> Transaction:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if error is not None:
            for undo in reversed(self._undo):
                undo()
        for path in self._cleanup:
            shutil.rmtree(path, ignore_errors=True)

    def scratch(self, beside: Path) -> Path:
        """A temporary directory on the same filesystem as `beside` (a hidden name)."""
        beside.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=".lambdaserve-", dir=beside))
        self._cleanup.append(path)
        return path

    def move_dir(self, staged: Path, target: Path) -> None:
        """Move a staged directory to `target`, which must not exist."""
        created = not target.parent.exists()
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(staged, target)
        self._undo.append(
            lambda: shutil.rmtree(target.parent if created else target, ignore_errors=True)
        )

    def write_file(self, target: Path, data: bytes) -> None:
        """Replace (or create) a file atomically; undo restores what was there."""
        old = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.lambdaserve-tmp")
        temp.write_bytes(data)
        os.replace(temp, target)
        self._undo.append(lambda: _restore(target, old))

    def remove_file(self, target: Path) -> None:
        old = target.read_bytes()
        target.unlink()
        self._undo.append(lambda: _restore(target, old))

    def remove_dir(self, target: Path, scratch: Path) -> None:
        """Move a directory out of the way (into scratch); undo moves it back."""
        parked = scratch / f"removed-{len(self._undo)}"
        os.rename(target, parked)
        self._undo.append(lambda: os.rename(parked, target))


def _restore(target: Path, old: bytes | None) -> None:
    if old is None:
        target.unlink(missing_ok=True)
    else:
        target.write_bytes(old)
