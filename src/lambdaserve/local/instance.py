"""One execution environment seen from the parent: the worker process and its frame protocol.

Every read has a deadline, so a hung or slow handler is killed (as Lambda kills a timed-out
environment) instead of hanging the server.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

WORKER = Path(__file__).with_name("worker.py")

LogSink = Callable[[str], None]


class Timeout(Exception):
    """No answer before the deadline."""


class Exited(Exception):
    """The process ended (crash, sys.exit, killed) without answering."""

    def __init__(self, returncode: int | None) -> None:
        super().__init__(f"exit status {returncode}")
        self.returncode = returncode


class InitFailed(Exception):
    """Importing the handler failed; `payload` is Lambda's error JSON."""

    def __init__(self, payload: bytes) -> None:
        super().__init__(payload.decode(errors="replace"))
        self.payload = payload


def worker_command(python: str, config: Mapping[str, Any]) -> list[str]:
    """`-I -S`: nothing of this environment leaks in but what `config["path"]` lists."""
    return [python, "-I", "-S", "-u", str(WORKER), json.dumps(config)]


class _FrameReader:
    def __init__(self, stream: IO[bytes]) -> None:
        self._fd = stream.fileno()
        self._buffer = bytearray()

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise Timeout
        ready, _, _ = select.select([self._fd], [], [], remaining)
        if not ready:
            raise Timeout
        chunk = os.read(self._fd, 1 << 16)
        if not chunk:
            raise EOFError
        self._buffer.extend(chunk)

    def read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        while b"\n" not in self._buffer:
            self._fill(deadline)
        line, _, rest = bytes(self._buffer).partition(b"\n")
        header: dict[str, Any] = json.loads(line)
        size = int(header.get("size", 0))
        self._buffer = bytearray(rest)
        while len(self._buffer) < size:
            self._fill(deadline)
        body = bytes(self._buffer[:size])
        del self._buffer[:size]
        return header, body


class Instance:
    """A started worker process; `init` then any number of `invoke`, one at a time."""

    def __init__(
        self, command: Sequence[str], env: Mapping[str, str], cwd: Path, log: LogSink | None
    ) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if log else None,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,  # Ctrl-C reaches the parent only; it stops us cleanly
        )
        assert self.process.stdin and self.process.stdout
        self._inbox = self.process.stdin
        self._reader = _FrameReader(self.process.stdout)
        self._logs: threading.Thread | None = None
        if log and self.process.stderr:
            stream = self.process.stderr
            self._logs = threading.Thread(target=self._forward, args=(stream, log), daemon=True)
            self._logs.start()

    @staticmethod
    def _forward(stream: IO[bytes], log: LogSink) -> None:
        for raw in iter(stream.readline, b""):
            for line in raw.decode(errors="replace").rstrip("\n").split("\r"):
                log(line)

    def _read(self, deadline: float) -> tuple[dict[str, Any], bytes]:
        try:
            return self._reader.read(deadline)
        except Timeout:
            self.kill()
            raise
        except (EOFError, ValueError, OSError):
            self.kill()
            raise Exited(self.process.returncode) from None

    def init(self, timeout: float) -> float:
        """Wait for the handler import; returns its duration in ms."""
        header, body = self._read(time.monotonic() + timeout)
        if not header.get("ok"):
            self.kill()
            raise InitFailed(body)
        return float(header.get("initMs", 0.0))

    def invoke(
        self, header: Mapping[str, Any], payload: bytes, timeout: float
    ) -> tuple[dict[str, Any], bytes]:
        frame = {**header, "size": len(payload)}
        try:
            self._inbox.write(json.dumps(frame).encode() + b"\n" + payload)
            self._inbox.flush()
        except (BrokenPipeError, OSError):
            self.kill()
            raise Exited(self.process.returncode) from None
        return self._read(time.monotonic() + timeout)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        self._close_pipes()

    def close(self) -> None:
        """Ask politely (EOF on stdin ends the worker's loop), then insist."""
        if self.process.poll() is None:
            try:
                self._inbox.close()
                self.process.wait(timeout=2)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.kill()

    def _close_pipes(self) -> None:
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        if self._logs:
            self._logs.join(timeout=2)
