"""The warm environments of one function: an invocation takes an idle one or starts one.

At most `limit` environments run at once (the function's concurrency); a caller beyond it
waits for one to come back, as a throttled synchronous call would be retried.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from lambdaserve.local.environment import Environment
from lambdaserve.local.errors import LocalError


class Pool:
    def __init__(self, start: Callable[[], Environment], limit: int) -> None:
        self._start = start
        self._limit = max(1, limit)
        self._idle: list[Environment] = []
        self._count = 0
        self._cond = threading.Condition()
        self._closed = False

    def acquire(self) -> tuple[Environment, bool]:
        """An environment and whether it is new (a cold start)."""
        with self._cond:
            while True:
                if self._closed:
                    raise LocalError("the local runtime is shutting down")
                while self._idle:
                    environment = self._idle.pop()
                    if environment.alive:
                        return environment, False
                    self._count -= 1
                if self._count < self._limit:
                    self._count += 1
                    break
                self._cond.wait()
        try:
            return self._start(), True
        except BaseException:
            self.discard()
            raise

    def release(self, environment: Environment) -> None:
        with self._cond:
            if self._closed or not environment.alive:
                self._count -= 1
                environment.kill()
            else:
                self._idle.append(environment)
            self._cond.notify()

    def discard(self, environment: Environment | None = None) -> None:
        if environment is not None:
            environment.kill()
        with self._cond:
            self._count -= 1
            self._cond.notify()

    @property
    def idle(self) -> list[Environment]:
        with self._cond:
            return list(self._idle)

    def close(self) -> list[Environment]:
        """Refuse new work; returns the idle environments for the caller to shut down."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._cond.notify_all()
        return idle
