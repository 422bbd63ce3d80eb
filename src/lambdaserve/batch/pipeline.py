"""The block pipeline: split -> parse -> predict -> format, from any Source to any Sink.

It knows nothing of S3 or events: an S3 object, a byte range of one and a queue batch
all run through the same middle.

Throughput: this thread splits the text into blocks and runs the reader's `prepare`; a
worker thread runs `finish` and the model (onnxruntime releases the GIL), so parsing
block i+1 overlaps predicting block i. Output lines are formatted where there is spare
time: beside the model when this thread also parses, here when a parser process does
(`parses_elsewhere`: the model's thread is then the busiest, and formatting block i
overlaps predicting i+1). Blocks are prepared `read_ahead` ahead of the model so the
parser never waits for input, and the first blocks are small so the model starts early.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from time import perf_counter
from typing import Generic, TypeVar

import numpy as np

from lambdaserve.batch.aligned import predict_aligned
from lambdaserve.batch.blocks import Block, ParsedBlock, UnreadableInput
from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.formats import BlockFormat, open_format
from lambdaserve.batch.keys import Format
from lambdaserve.batch.parse_worker import ParserProcess
from lambdaserve.batch.prediction_columns import Outputs, PredictionColumns
from lambdaserve.batch.sink import Sink
from lambdaserve.batch.source import Source
from lambdaserve.batch.stream import lines_blocks
from lambdaserve.batch.summary import RowCounts
from lambdaserve.observability.tracing import SpanLog
from lambdaserve.repository import ModelManifest

Prepared = TypeVar("Prepared")
Passthrough = TypeVar("Passthrough")

# The model on one block's feature matrix (float32 [rows, features]).
Predict = Callable[[np.ndarray], Outputs]


@dataclass(frozen=True)
class Scored(Generic[Passthrough]):
    parsed: ParsedBlock[Passthrough]
    # The block's output lines, or the model's outputs when the reading thread formats.
    result: bytes | Outputs


class BlockPipeline:
    def __init__(
        self,
        predict: Predict,
        manifest: ModelManifest,
        config: BatchConfig,
        parser: ParserProcess | None = None,
    ) -> None:
        self.predict = predict
        self.manifest = manifest
        self.columns = PredictionColumns.for_model(manifest)
        self.config = config
        self.parser = parser  # parses plain CSV blocks, if given (a CSV input's)

    def run(
        self,
        source: Source,
        sink: Sink,
        counts: RowCounts,
        before_block: Callable[[], None] = lambda: None,
        spans: SpanLog | None = None,
    ) -> None:
        """Everything `source` yields, predicted and written to `sink` in input order.

        `before_block` may stop the run by raising (e.g. a deadline). Raises
        UnreadableInput if the input cannot be read at all. `spans` gets one read, parse,
        predict and write span per chunk or block (tracing; a few clock reads per block).
        """
        cfg = self.config
        spans = spans or SpanLog(limit=0)
        blocks = lines_blocks(
            _timed(source.chunks(), spans),
            cfg.block_bytes,
            quoted=source.format is Format.CSV,
            max_block_bytes=cfg.max_block_bytes,
            first_block_bytes=cfg.first_block_bytes,
            first_line=source.first_line,
        )
        first = next(blocks, None)
        if first is None:
            raise UnreadableInput("the input is empty")
        head, _, rest = first.data.partition(b"\n")
        fmt = open_format(
            source.format,
            head if source.header is None else source.header,
            self.manifest,
            self.columns,
            self.parser,
            starts_input=source.first_line == 1,
        )
        if fmt.first_line_is_header and source.header is None:
            first = Block(rest, first.first_line + 1)
        if source.header is None:  # the output's header goes where the input's was
            sink.write(fmt.writer.header(), 0, ())
        self._stream(fmt, _chain(first, blocks), sink, counts, before_block, spans)

    def _stream(
        self,
        fmt: BlockFormat[Prepared, Passthrough],
        blocks: Iterator[Block],
        sink: Sink,
        counts: RowCounts,
        before_block: Callable[[], None],
        spans: SpanLog,
    ) -> None:
        reader, writer = fmt.reader, fmt.writer
        format_here = reader.parses_elsewhere
        predict = self.predict

        def score(prepared: Prepared) -> Scored[Passthrough]:
            started = perf_counter()
            parsed = reader.finish(prepared)
            if not parsed.rows:
                return Scored(parsed, b"")
            parsed_at = perf_counter()
            # Fixed-shape calls by line number: the same bytes however the input was cut.
            outputs = predict_aligned(predict, parsed.features, parsed.lines)
            predicted_at = perf_counter()
            spans.record("parse", started, parsed_at)
            spans.record("predict", parsed_at, predicted_at)
            return Scored(parsed, outputs if format_here else writer.rows(parsed, outputs))

        def write(done: Future[Scored[Passthrough]]) -> None:
            scored = done.result()
            started = perf_counter()
            parsed, result = scored.parsed, scored.result
            lines = result if isinstance(result, bytes) else writer.rows(parsed, result)
            counts.predicted += parsed.rows
            counts.failed += len(parsed.errors)
            counts.read += parsed.rows + len(parsed.errors)
            counts.blank_lines += parsed.blank_lines
            sink.write(lines, parsed.rows, parsed.errors)
            spans.record("write", started, perf_counter())

        pending: deque[Future[Scored[Passthrough]]] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict") as pool:
            try:
                for block in blocks:
                    before_block()
                    started = perf_counter()
                    prepared = reader.prepare(block)
                    spans.record("parse", started, perf_counter())
                    pending.append(pool.submit(score, prepared))
                    while len(pending) > self.config.read_ahead or (pending and pending[0].done()):
                        write(pending.popleft())
                while pending:
                    write(pending.popleft())
            finally:
                for future in pending:
                    future.cancel()


def _timed(chunks: Iterator[bytes], spans: SpanLog) -> Iterator[bytes]:
    """The source's chunks, each read a `read` span."""
    while True:
        started = perf_counter()
        chunk = next(chunks, None)
        if chunk is None:
            return
        spans.record("read", started, perf_counter())
        yield chunk


def _chain(first: Block, rest: Iterator[Block]) -> Iterator[Block]:
    yield first
    yield from rest
