"""The CSV parser process gives exactly what in-process parsing gives, and failing is safe."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import numpy as np
import pytest

from lambdaserve.batch import parse_worker
from lambdaserve.batch.blocks import Block, ParsedBlock
from lambdaserve.batch.csv_header import read_header
from lambdaserve.batch.csv_reader import CsvReader
from lambdaserve.batch.parse_worker import OffloadedCsv, ParserProcess, WorkerGone, offloadable

# Each test starts (and some kill) helper interpreters: slow, and still part of `make test`.
pytestmark = pytest.mark.slow

FEATURES = ("a", "b")
READER = CsvReader(read_header(b"id,b,a,note\n", FEATURES))
BAD = b"1,2,3,x\n2,4,5,y\n\n3,bad,1,z\n4,1\n5,nan,1,w\n6,,1,v\n7,1.5,2.5,last\n8,1,2,3,4\n"


def good(n: int, start: int = 0) -> bytes:
    return b"".join(b"%d,%d.25,-%de-3,row %d\n" % (i, i, i, i) for i in range(start, start + n))


@pytest.fixture(scope="module")
def parser() -> Iterator[ParserProcess]:
    process = ParserProcess()
    yield process
    process.close()


def same(a: ParsedBlock, b: ParsedBlock) -> None:
    assert a.features.dtype == b.features.dtype == np.float32
    np.testing.assert_array_equal(a.features, b.features)
    assert a.lines.tolist() == b.lines.tolist()
    assert [t.to_list() for t in a.passthrough] == [t.to_list() for t in b.passthrough]
    assert a.errors == b.errors
    assert a.blank_lines == b.blank_lines


@pytest.mark.parametrize(
    "data",
    [BAD, good(3000) + BAD + good(3000, 5000), good(1), b"\n\n", b"9,1,2\n" * 200],
    ids=["bad rows", "bad rows inside a big block", "one row", "blank only", "all short"],
)
def test_the_process_parses_exactly_like_the_reader(parser: ParserProcess, data: bytes) -> None:
    block = Block(data, 7)
    same(parser.result(parser.submit(READER.layout, block)), READER.parse(block))


def test_answers_come_back_in_order(parser: ParserProcess) -> None:
    blocks = [Block(good(500, 500 * i), 2 + 500 * i) for i in range(6)]
    futures = [parser.submit(READER.layout, b) for b in blocks]
    for future, block in zip(futures, blocks, strict=True):
        same(parser.result(future), READER.parse(block))


def test_quoted_and_cr_blocks_stay_in_process() -> None:
    assert offloadable(b"1,2,3,x\n")
    assert not offloadable(b'1,2,3,"x"\n')
    assert not offloadable(b"1,2,3,x\r\n")


def test_a_dead_process_fails_its_blocks_and_they_are_parsed_in_process() -> None:
    process = ParserProcess()
    try:
        offloaded = OffloadedCsv(READER, process)
        block = Block(BAD, 2)
        os.kill(process.pid, signal.SIGKILL)
        process.process.wait()
        prepared = offloaded.prepare(block)
        same(offloaded.finish(prepared), READER.parse(block))
        assert not process.alive
        with pytest.raises(WorkerGone):
            process.result(process.submit(READER.layout, block))
    finally:
        process.close()


def test_an_error_in_the_child_is_reported_per_block(parser: ParserProcess) -> None:
    block = Block(b"1,2,3,x\n", 2)
    with pytest.raises(WorkerGone, match="could not parse"):
        parser.result(parser.submit("not a layout", block))  # type: ignore[arg-type]
    assert parser.alive
    same(parser.result(parser.submit(READER.layout, block)), READER.parse(block))


def test_the_shared_process_is_restarted_and_given_up_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_worker, "_shared", None)
    monkeypatch.setattr(parse_worker, "_failures", 0)
    first = parse_worker.shared_parser()
    assert first is not None and parse_worker.shared_parser() is first
    os.kill(first.pid, signal.SIGKILL)
    with pytest.raises(WorkerGone):
        first.result(first.submit(READER.layout, Block(b"1,2,3,x\n", 2)))
    second = parse_worker.shared_parser()
    assert second is not None and second is not first and second.alive
    second.close()

    attempts = []

    def cannot_start(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("no interpreter")

    monkeypatch.setattr(parse_worker.subprocess, "Popen", cannot_start)
    monkeypatch.setattr(parse_worker, "_shared", None)
    for _ in range(5):
        assert parse_worker.shared_parser() is None  # logged; the job parses in-process
    # One death and two failed starts: the container stops trying.
    assert len(attempts) == parse_worker.MAX_FAILURES - 1


def test_ready_waits_for_the_warmed_up_child_and_reports_a_dead_one() -> None:
    process = ParserProcess()
    try:
        assert process.ready(timeout=30)
        block = Block(good(10), 2)
        same(process.result(process.submit(READER.layout, block)), READER.parse(block))
    finally:
        process.close()
    doomed = ParserProcess()
    try:
        os.kill(doomed.pid, signal.SIGKILL)
        assert not doomed.ready(timeout=30)  # answered by the exit, not by the timeout
        assert not doomed.alive
    finally:
        doomed.close()
