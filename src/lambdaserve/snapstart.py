"""SnapStart runtime hooks: what must change when one snapshot becomes many environments.

With SnapStart, Lambda runs a published version's init once, snapshots the memory and
resumes every new execution environment from that snapshot. Whatever init computed that
must differ per environment, or that is bound to the time or the identity of init, is wrong
after a restore: random generator state (every environment would draw the same A/B
assignments), clocks captured at init (cache TTLs), AWS sessions holding credentials,
request-id generators seeded at init. Cold pages of the restored memory also make the first
inference slow unless the model runs once after the restore.

Contract for other modules (the interface others rely on):

    from lambdaserve import snapstart
    snapstart.after_restore("traffic-rng", policy.reseed)    # before the first invoke
    snapstart.before_snapshot("cache-clock", cache.clear)     # after init, before the snapshot

Hooks are named: registering a name again replaces that hook (an app built twice in one
process, as tests do, keeps one hook). A hook takes no arguments; an exception fails the
snapshot or the restore (Lambda reports it and does not serve from that snapshot), which is
right for a model that cannot warm. The hooks reach Lambda through `snapshot_restore_py`,
the registry AWS's runtime interface client (awslambdaric) runs when
AWS_LAMBDA_INITIALIZATION_TYPE is `snap-start`: before-snapshot hooks in reverse order of
registration, after-restore hooks in order. `run_before_snapshot` / `run_after_restore`
run ours the same way, for tests and for a local runtime without awslambdaric.
Without SnapStart nothing here ever runs: registering costs a list append at init.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import snapshot_restore_py

logger = logging.getLogger("lambdaserve.snapstart")

Hook = Callable[[], object]


class _Phase:
    """One phase's named hooks, in registration order; registered with Lambda once."""

    def __init__(
        self,
        name: str,
        lifo: bool,
        register: Callable[[Hook], object],
        registry: Callable[[], list[Any]],
    ) -> None:
        self.name = name
        self.lifo = lifo  # Lambda runs before-snapshot hooks last-registered first
        self._register = register
        self._registry = registry  # snapshot_restore_py's list of (function, args, kwargs)
        self._hooks: dict[str, Hook] = {}

    def _registered(self) -> bool:
        return any(entry[0] == self.run for entry in self._registry())

    def add(self, name: str, hook: Hook) -> None:
        self._hooks.pop(name, None)  # a replaced hook moves to the end, like a new one
        self._hooks[name] = hook
        if not self._registered():  # once: this phase's hooks run inside one Lambda hook
            self._register(self.run)

    def names(self) -> list[str]:
        order = list(self._hooks)
        return order[::-1] if self.lifo else order

    def run(self) -> list[str]:
        """Run every hook in Lambda's order; the first failure stops the phase."""
        ran = []
        for name in self.names():
            start = time.perf_counter()
            self._hooks[name]()
            ms = (time.perf_counter() - start) * 1e3
            logger.info("%s hook %s done in %.1f ms", self.name, name, ms)
            ran.append(name)
        return ran

    def clear(self) -> None:
        self._hooks.clear()
        registry = self._registry()
        registry[:] = [entry for entry in registry if entry[0] != self.run]


_before = _Phase(
    "before-snapshot",
    True,
    snapshot_restore_py.register_before_snapshot,
    snapshot_restore_py.get_before_snapshot,
)
_after = _Phase(
    "after-restore",
    False,
    snapshot_restore_py.register_after_restore,
    snapshot_restore_py.get_after_restore,
)


def before_snapshot(name: str, hook: Hook) -> None:
    """Run `hook` after init, just before Lambda takes the snapshot."""
    _before.add(name, hook)


def after_restore(name: str, hook: Hook) -> None:
    """Run `hook` in every environment resumed from the snapshot, before its first invoke."""
    _after.add(name, hook)


def before_snapshot_hooks() -> list[str]:
    """Registered before-snapshot hook names, in the order they run."""
    return _before.names()


def after_restore_hooks() -> list[str]:
    """Registered after-restore hook names, in the order they run."""
    return _after.names()


def run_before_snapshot() -> list[str]:
    return _before.run()


def run_after_restore() -> list[str]:
    return _after.run()


def clear() -> None:
    """Forget every registered hook, here and in Lambda's registry (tests)."""
    _before.clear()
    _after.clear()


# ------------------------------------------------------- the hooks every model function needs


def reseed_random() -> None:
    """Fresh OS entropy for Python's and numpy's global generators in each environment."""
    random.seed()
    np.random.seed()


def forget_aws_sessions() -> None:
    """Drop boto3's default session, so credentials resolve again after the restore.

    Clients made from it keep theirs; modules that hold clients register their own hook.
    boto3 is not imported for this: a function that never used it has nothing to forget.
    """
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        vars(boto3)["DEFAULT_SESSION"] = None  # boto3's own reset, without importing it


class Warmable(Protocol):
    def warm(self) -> None: ...


class ModelSource(Protocol):
    """What the warm hook needs of the dataplane: which versions init loaded, and them."""

    def model_names(self) -> list[str]: ...
    def versions(self, name: str) -> list[str]: ...
    def is_loaded(self, name: str, version: str) -> bool: ...
    def model(self, name: str, version: str) -> Warmable: ...


def loaded_models(plane: ModelSource) -> list[Warmable]:
    return [
        plane.model(name, version)
        for name in plane.model_names()
        for version in plane.versions(name)
        if plane.is_loaded(name, version)
    ]


def warm_models(plane: ModelSource) -> Hook:
    """A hook running one inference per loaded version: restored pages are cold until touched."""

    def warm() -> None:
        for model in loaded_models(plane):
            model.warm()

    return warm


def install_model_function(plane: ModelSource) -> None:
    """The hooks of a model function: entropy and AWS identity per environment, warm models."""
    before_snapshot("forget-aws-sessions", forget_aws_sessions)
    after_restore("reseed-random", reseed_random)
    after_restore("forget-aws-sessions", forget_aws_sessions)
    after_restore("warm-models", warm_models(plane))
