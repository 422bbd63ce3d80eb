"""One execution environment: a Runtime API and the function process that polls it.

The process runs AWS's runtime interface client (see bootstrap.py) in its own session, so
Ctrl-C reaches only the parent, and killing the environment kills everything the function
started (as Lambda discards a whole sandbox). Its stdout and stderr are its logs. Every wait
has a deadline: a hung handler is killed, as Lambda kills a timed-out environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from lambdaserve.local.runtime_api import (
    Exited,
    InitFailed,
    InvokeRequest,
    Outcome,
    RuntimeApi,
    Timeout,
)

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")

LogSink = Callable[[str], None]

__all__ = ["Environment", "Exited", "InitFailed", "Sandbox", "Timeout"]


@dataclass(frozen=True)
class Sandbox:
    """How to start a function's environments: interpreter, import path, handler, env."""

    python: str
    path: tuple[tuple[str, bool], ...]  # (directory, is a site dir with .pth files)
    handler: str
    env: Mapping[str, str]
    cwd: Path

    def command(self) -> list[str]:
        """`-I -S`: nothing of this environment leaks in but what `path` lists."""
        entries = json.dumps([list(p) for p in self.path])
        return [self.python, "-I", "-S", "-u", str(BOOTSTRAP), entries, self.handler]


def _pending_bytes(fd: int) -> int:
    buffer = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buffer)
    return int.from_bytes(buffer, "little")


class _Logs:
    """Forwards the process's output line by line; `drain` waits until all of it is read."""

    def __init__(self, stream: int, sink: LogSink | None) -> None:
        self._fd = stream
        self._sink = sink
        self._cond = threading.Condition()
        self._idle = False
        self._done = False
        self._thread = threading.Thread(target=self._run, name="function-logs", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        partial = b""
        while True:
            with self._cond:
                self._idle = True
                self._cond.notify_all()
            try:
                chunk = os.read(self._fd, 1 << 16)
            except OSError:
                chunk = b""
            with self._cond:
                self._idle = False
            if not chunk:
                break
            lines = (partial + chunk).split(b"\n")
            partial = lines.pop()
            for line in lines:
                self._emit(line)
        if partial:
            self._emit(partial)
        with self._cond:
            self._done = True
            self._cond.notify_all()

    def _emit(self, raw: bytes) -> None:
        if self._sink is None:
            return
        # The runtime client joins a multi-line error with \r, as CloudWatch shows one event.
        for line in raw.decode(errors="replace").split("\r"):
            if line:
                self._sink(line)

    def drain(self, timeout: float = 1.0) -> None:
        """Everything written before now has reached the sink (so START/END frame it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._done:
                try:
                    if self._idle and _pending_bytes(self._fd) == 0:
                        return
                except OSError:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(min(remaining, 0.01))

    def join(self) -> None:
        self._thread.join(timeout=2)


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                queue.extend(int(c) for c in (task / "children").read_text().split())
    return found


def _peak_mb(pid: int) -> int | None:
    """Peak resident memory of the environment's processes (VmHWM), as Max Memory Used."""
    total = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total // 1024 if total else None


class Environment:
    """A started function process and its Runtime API: `init`, then `invoke`, one at a time."""

    def __init__(self, sandbox: Sandbox, log: LogSink | None) -> None:
        self.api = RuntimeApi()
        env = {**sandbox.env, "AWS_LAMBDA_RUNTIME_API": self.api.address}
        self._killed = False
        self.started = time.monotonic()
        read_end, write_end = os.pipe()
        try:
            self.process = subprocess.Popen(
                sandbox.command(),
                stdin=subprocess.DEVNULL,
                stdout=write_end,
                stderr=write_end,
                env=env,
                cwd=sandbox.cwd,
                start_new_session=True,  # Ctrl-C reaches the parent only; it stops us cleanly
            )
        except OSError:
            os.close(read_end)
            self.api.close()
            raise
        finally:
            os.close(write_end)
        self._logs = _Logs(read_end, log)
        self._read_end = read_end
        self._waiter = threading.Thread(target=self._wait_exit, name="function-exit", daemon=True)
        self._waiter.start()

    def _wait_exit(self) -> None:
        self.api.exited(self.process.wait())

    def init(self, timeout: float) -> float:
        """Wait until the runtime asks for its first invocation; returns Init Duration (ms)."""
        try:
            ready = self.api.wait_ready(time.monotonic() + timeout)
        except (InitFailed, Timeout, Exited):
            self._logs.drain()
            self.kill()
            raise
        return (ready - self.started) * 1000

    def invoke(self, request: InvokeRequest, timeout: float) -> Outcome:
        """One invocation; a timeout or a dead process kills the environment and raises."""
        try:
            outcome = self.api.invoke(request, time.monotonic() + timeout)
        except (Timeout, Exited):
            self._logs.drain()
            self.kill()
            raise
        self._logs.drain()
        return outcome

    def max_memory_mb(self) -> int | None:
        return _peak_mb(self.process.pid)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """Stop the whole sandbox: the process and anything it started."""
        if self._killed:
            return
        self._killed = True
        with contextlib.suppress(OSError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self.api.close()
        self._logs.join()
        with contextlib.suppress(OSError):
            os.close(self._read_end)

    def close(self) -> None:
        """Lambda's shutdown: SIGTERM first (the runtime may clean up), then SIGKILL."""
        if self.process.poll() is None:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)
        self.kill()
