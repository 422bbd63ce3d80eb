"""CSV parsing in a helper process, so it runs beside the model instead of under its GIL.

numpy's `loadtxt` is C but holds the GIL: in one process, parsing serializes with
everything else the job does in Python (splitting, formatting, S3 I/O). A persistent
child process takes plain CSV blocks (no quotes, no CR) and returns what
`CsvReader.parse` returns: the float32 feature matrix, line numbers, passthrough
field positions and the bad rows with their exact lines, computed by the very same
code. The parent keeps the block bytes, so passthrough columns point into its own copy.

Lambda has no /dev/shm (no multiprocessing queues or pools), and the parent holds
onnxruntime threads (fork is unsafe): the child is a fresh interpreter
(`python -m lambdaserve.batch.parse_worker FD`) talking over a socketpair with
length-prefixed frames, received straight into their final buffer. It is started once
per container (`shared_parser`) and reused by every later job.

If the child cannot start, dies, or answers with an error, the caller parses that block
in-process: no row is ever lost, and a block's outcome never depends on where it ran.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import pickle
import queue
import socket
import struct
import subprocess
import sys
import threading
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambdaserve.batch.blocks import Block
from lambdaserve.batch.byte_column import ByteColumn
from lambdaserve.batch.csv_header import CsvLayout
from lambdaserve.batch.csv_reader import CsvBlock, CsvReader, Prepared

log = logging.getLogger(__name__)

# A 4 MB block parses in well under a second; a child silent for this long is stuck.
RESULT_TIMEOUT_SECONDS = 60.0
# After this many starts that failed or died, stop trying for the container's life.
MAX_FAILURES = 3
# Starting takes a fresh interpreter importing numpy: well under a second. Waiting stays
# far inside Lambda's 10 s init limit; a slower start is still used once it is up.
STARTUP_TIMEOUT_SECONDS = 4.0
HELLO = b"lambdaserve parse worker ready"


class WorkerGone(RuntimeError):
    """The helper process cannot parse this block: parse it in-process instead."""


def offloadable(data: bytes) -> bool:
    """Blocks the child takes: the plain fast path (quoted or CR data stays in-process)."""
    return b'"' not in data and b"\r" not in data


class ParserProcess:
    """One helper process; `submit` returns a future of the block's parsed block.

    Blocks are answered in the order they were submitted. A sender and a receiver thread
    move the bytes (both block in the kernel, not on the GIL), so the caller never waits
    on the child while it parses.
    """

    def __init__(self) -> None:
        ours, theirs = socket.socketpair()
        try:
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.pid = self.process.pid
        self._socket = ours  # shutdown() wakes the receiver thread and tells the child to exit
        self._conn = Channel(ours)
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Future[CsvBlock], bytes]] = deque()
        self._outbox: queue.SimpleQueue[tuple[bytes, bytes] | None] = queue.SimpleQueue()
        self._started = threading.Event()  # the child said hello (or failed first)
        self.failure: str | None = None
        threading.Thread(target=self._send_loop, name="parse-send", daemon=True).start()
        threading.Thread(target=self._receive_loop, name="parse-receive", daemon=True).start()

    @property
    def alive(self) -> bool:
        return self.failure is None

    def ready(self, timeout: float = STARTUP_TIMEOUT_SECONDS) -> bool:
        """Wait until the child has started and warmed up (for a function's init: the first
        job then finds it parsing at full speed). False if it failed or is still starting."""
        self._started.wait(timeout)
        return self._started.is_set() and self.alive

    def submit(self, layout: CsvLayout, block: Block) -> Future[CsvBlock]:
        future: Future[CsvBlock] = Future()
        with self._lock:
            if self.failure is not None:
                future.set_exception(WorkerGone(self.failure))
                return future
            self._waiting.append((future, block.data))
            self._outbox.put((pickle.dumps((layout, block.first_line)), block.data))
        return future

    def result(self, future: Future[CsvBlock]) -> CsvBlock:
        try:
            return future.result(timeout=RESULT_TIMEOUT_SECONDS)
        except TimeoutError:
            self._fail(f"no answer within {RESULT_TIMEOUT_SECONDS:.0f}s")
            raise WorkerGone("the parser process is stuck") from None

    def close(self) -> None:
        self._fail("closed")
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._socket.close()

    # ---------------------------------------------------------------- threads
    def _send_loop(self) -> None:
        while True:
            item = self._outbox.get()
            if item is None:
                return
            try:
                self._conn.send(*item)
            except OSError as exc:
                self._fail(f"sending failed: {exc}")
                return

    def _receive_loop(self) -> None:
        while True:
            try:
                raw = self._conn.recv()
            except (EOFError, OSError) as exc:
                code = self.process.poll()
                self._fail(f"the parser process exited (code {code}): {exc!r}")
                return
            if not self._started.is_set():
                if bytes(raw) != HELLO:
                    self._fail("the parser process did not say hello")
                    return
                self._started.set()
                continue
            with self._lock:
                if not self._waiting:
                    continue  # after a failure was declared
                future, data = self._waiting.popleft()
            try:
                future.set_result(_rebuild(pickle.loads(raw), data))
            except WorkerGone as exc:
                future.set_exception(exc)

    def _fail(self, reason: str) -> None:
        with self._lock:
            first = self.failure is None
            if first:
                self.failure = reason
            waiting = list(self._waiting)
            self._waiting.clear()
        self._started.set()
        for future, _ in waiting:
            future.set_exception(WorkerGone(reason))
        if not first:
            return
        if reason != "closed":
            log.warning("CSV parser process %s failed (%s): parsing in-process", self.pid, reason)
        self._outbox.put(None)
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        if self.process.poll() is None and reason != "closed":
            self.process.kill()


_LENGTH = struct.Struct("!Q")


class Channel:
    """Frames over a stream socket: an 8-byte length, then the bytes (no extra copies)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def send(self, *frames: bytes) -> None:
        for frame in frames:
            if len(frame) < 65536:
                self.sock.sendall(_LENGTH.pack(len(frame)) + frame)
            else:
                self.sock.sendall(_LENGTH.pack(len(frame)))
                self.sock.sendall(frame)

    def recv(self) -> bytearray:
        (size,) = _LENGTH.unpack(self._exactly(_LENGTH.size))
        return self._exactly(size)

    def _exactly(self, size: int) -> bytearray:
        buffer = bytearray(size)
        view = memoryview(buffer)
        got = 0
        while got < size:
            n = self.sock.recv_into(view[got:])
            if n == 0:
                raise EOFError("the other side closed the connection")
            got += n
        return buffer


def _rebuild(answer: tuple[bool, Any], data: bytes) -> CsvBlock:
    ok, payload = answer
    if not ok:
        raise WorkerGone(f"the parser process could not parse a block: {payload}")
    features, lines, spans, errors, blanks = payload
    buffer = np.frombuffer(data, dtype=np.uint8)
    passthrough = [ByteColumn(buffer, starts, ends) for starts, ends in spans]
    return CsvBlock(features, lines, passthrough, errors, blanks)


@dataclass
class _Offloaded:
    future: Future[CsvBlock]
    block: Block


class OffloadedCsv:
    """`CsvReader`'s prepare/finish split, with plain blocks parsed by a `ParserProcess`.

    `prepare` only hands the block over; `finish` waits for the answer, and parses the
    block in-process if the helper failed. Quoted or CR blocks keep the in-process path.
    """

    parses_elsewhere = True  # the reading thread has time to format output instead

    def __init__(self, reader: CsvReader, parser: ParserProcess) -> None:
        self.reader = reader
        self.parser = parser

    def prepare(self, block: Block) -> _Offloaded | Prepared:
        if self.parser.alive and offloadable(block.data):
            return _Offloaded(self.parser.submit(self.reader.layout, block), block)
        return self.reader.prepare(block)

    def finish(self, prepared: _Offloaded | Prepared) -> CsvBlock:
        if not isinstance(prepared, _Offloaded):
            return self.reader.finish(prepared)
        try:
            return self.parser.result(prepared.future)
        except WorkerGone:
            return self.reader.parse(prepared.block)


# ---------------------------------------------------------------- one per container
_shared: ParserProcess | None = None
_failures = 0
_shared_lock = threading.Lock()


def shared_parser() -> ParserProcess | None:
    """The container's parser process, started (or restarted) on demand; None: in-process."""
    global _shared, _failures
    with _shared_lock:
        if _shared is not None and _shared.alive:
            return _shared
        if _shared is not None:
            _failures += 1
            _shared.close()
            _shared = None
        if _failures >= MAX_FAILURES:
            return None
        try:
            _shared = ParserProcess()
        except Exception:
            _failures += 1
            log.exception("could not start the CSV parser process: parsing in-process")
            return None
        return _shared


def _close_shared() -> None:
    if _shared is not None:
        _shared.close()


atexit.register(_close_shared)


# ---------------------------------------------------------------- the child
def warm_up() -> None:
    """Run every step of a parse once (numpy loads parts of itself on first use), so the
    first block of the first job does not pay for it."""
    layout = CsvLayout(("id", "x"), (1,), (0,), has_header=True)
    for data in (b"7,0.5\n8,1e3\n", b"7,x\n8,1\n"):  # the whole-table and careful paths
        CsvReader(layout, whole_blocks=True).parse(Block(data, 2))


def serve(conn: Channel) -> None:
    """Answer blocks until the parent goes away (EOF)."""
    warm_up()
    try:
        conn.send(HELLO)
    except OSError:
        return
    readers: dict[CsvLayout, CsvReader] = {}
    while True:
        try:
            head = conn.recv()
            data = bytes(conn.recv())
        except (EOFError, OSError):
            return
        answer: tuple[bool, object]
        try:
            layout, first_line = pickle.loads(head)
            reader = readers.get(layout)
            if reader is None:
                readers.clear()
                reader = readers[layout] = CsvReader(layout, whole_blocks=True)
            parsed = reader.parse(Block(data, first_line))
            spans = [(column.starts, column.ends) for column in parsed.passthrough]
            answer = (
                True,
                (parsed.features, parsed.lines, spans, parsed.errors, parsed.blank_lines),
            )
        except Exception as exc:
            answer = (False, f"{type(exc).__name__}: {exc}")
        try:
            conn.send(pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError:
            return


if __name__ == "__main__":
    serve(Channel(socket.socket(fileno=int(sys.argv[1]))))
