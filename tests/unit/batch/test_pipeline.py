"""The block pipeline on its own: any source, any sink, the same bytes out.

Byte-range shards of one input, run through the pipeline separately, give exactly the
whole input's output when concatenated: the middle is reused, not copied.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest

from lambdaserve.batch.blocks import UnreadableInput
from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.keys import Format
from lambdaserve.batch.parse_worker import ParserProcess
from lambdaserve.batch.pipeline import BlockPipeline
from lambdaserve.batch.prediction_columns import Outputs
from lambdaserve.batch.sink import S3MultipartSink
from lambdaserve.batch.source import ByteRange, InputRef, S3ObjectSource
from lambdaserve.batch.summary import RowCounts
from lambdaserve.dataplane import DataPlane

from .conftest import BUCKET

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
CONFIG = BatchConfig(block_bytes=4096, first_block_bytes=1024)


def iris_csv(rows: int, header: bool = True) -> bytes:
    rng = np.random.default_rng(7)
    lines = [f"id,{','.join(IRIS)},note"] if header else []
    for i in range(rows):
        values = ",".join(f"{v:.2f}" for v in rng.uniform(0, 8, 4))
        if i % 50 == 3:
            values = "oops" + values[4:]
        lines.append(f"r{i},{values},n{i}" if header else values)
        if i % 70 == 9:
            lines.append("")
    return ("\n".join(lines) + "\n").encode()


def iris_jsonl(rows: int) -> bytes:
    rng = np.random.default_rng(8)
    lines = []
    for i in range(rows):
        values = [round(float(v), 2) for v in rng.uniform(0, 8, 4)]
        row = {"id": i, **dict(zip(IRIS, values, strict=True))}
        lines.append(orjson.dumps(row).decode())
        if i % 40 == 2:
            lines.append('{"id": "no features"}')
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def parser() -> Iterator[ParserProcess]:
    process = ParserProcess()
    yield process
    process.close()


def pipeline(plane: DataPlane, parser: ParserProcess | None = None) -> BlockPipeline:
    model = plane.model("iris")

    def predict(features: np.ndarray) -> Outputs:
        return model.predict({"input": features})

    return BlockPipeline(predict, model.manifest, CONFIG, parser)


def run(
    s3: Any, plane: DataPlane, source: S3ObjectSource, out: str, parser: ParserProcess | None = None
) -> tuple[bytes, bytes, RowCounts]:
    sink = S3MultipartSink(
        s3,
        BUCKET,
        predictions_key=out,
        errors_key=out + ".errors",
        content_type="text/csv",
        part_bytes=5 << 20,
    )
    counts = RowCounts()
    assert source.open() is None
    try:
        pipeline(plane, parser).run(source, sink, counts)
    finally:
        source.close()
    sink.publish()
    read = [s3.get_object(Bucket=BUCKET, Key=k)["Body"].read() for k in (out, out + ".errors")]
    return read[0], read[1], counts


def cuts(data: bytes, parts: int) -> list[tuple[int, int, int]]:
    """(start, end, first line) of `parts` ranges cut at line breaks."""
    bounds = [0]
    for i in range(1, parts):
        bounds.append(data.index(b"\n", len(data) * i // parts) + 1)
    bounds.append(len(data))
    return [(a, b, data.count(b"\n", 0, a) + 1) for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize(
    ("key", "body"),
    [
        ("incoming/iris/a.csv", iris_csv(900)),
        ("incoming/iris/headerless.csv", iris_csv(900, header=False)),
        ("incoming/iris/a.jsonl", iris_jsonl(600)),
    ],
    ids=["csv", "headerless csv", "jsonl"],
)
def test_byte_range_shards_concatenate_to_the_whole_output(
    s3: Any, plane: DataPlane, key: str, body: bytes
) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    ref = InputRef(BUCKET, key)
    kind = Format.CSV if key.endswith(".csv") else Format.JSONL
    whole, whole_errors, counts = run(s3, plane, S3ObjectSource(s3, ref, kind), "results/whole")
    assert counts.failed > 0 and counts.blank_lines >= 0 and counts.predicted > 500
    header = body.partition(b"\n")[0] if kind is Format.CSV else None
    shards, shard_errors, total = b"", b"", RowCounts()
    for i, (start, end, line) in enumerate(cuts(body, 3)):
        shard = ByteRange(start, end, line, header)
        source = S3ObjectSource(s3, ref, kind, byte_range=shard)
        out, errors, part = run(s3, plane, source, f"results/shard-{i}")
        shards, shard_errors = shards + out, shard_errors + errors
        for field in ("read", "predicted", "failed", "blank_lines"):
            setattr(total, field, getattr(total, field) + getattr(part, field))
    assert shards == whole
    assert shard_errors == whole_errors
    assert total == counts


def test_a_parser_process_gives_the_same_bytes(
    s3: Any, plane: DataPlane, parser: ParserProcess
) -> None:
    """Where the output is formatted (beside the model, or on the reading thread when the
    parser process parses) never changes what is written."""
    body = iris_csv(2000)
    s3.put_object(Bucket=BUCKET, Key="incoming/iris/a.csv", Body=body)
    source = S3ObjectSource(s3, InputRef(BUCKET, "incoming/iris/a.csv"), Format.CSV)
    here = run(s3, plane, source, "results/here")
    source = S3ObjectSource(s3, InputRef(BUCKET, "incoming/iris/a.csv"), Format.CSV)
    elsewhere = run(s3, plane, source, "results/elsewhere", parser)
    assert parser.alive
    assert here == elsewhere


def test_only_the_inputs_first_jsonl_line_decides_whether_it_is_json_lines(
    s3: Any, plane: DataPlane
) -> None:
    body = b"[5.1, 3.5, 1.4, 0.2]\nnot json\n[6.4, 2.9, 4.3, 1.3]\n"
    s3.put_object(Bucket=BUCKET, Key="incoming/iris/a.jsonl", Body=body)
    ref = InputRef(BUCKET, "incoming/iris/a.jsonl")
    start = body.index(b"not")
    later = S3ObjectSource(s3, ref, Format.JSONL, byte_range=ByteRange(start, len(body), 2, None))
    out, errors, counts = run(s3, plane, later, "results/later")
    assert (counts.predicted, counts.failed) == (1, 1)
    assert orjson.loads(errors)["line"] == 2 and orjson.loads(out)["line"] == 3
    s3.put_object(Bucket=BUCKET, Key="incoming/iris/b.jsonl", Body=body[start:])
    whole = S3ObjectSource(s3, InputRef(BUCKET, "incoming/iris/b.jsonl"), Format.JSONL)
    with pytest.raises(UnreadableInput, match="not JSON Lines"):
        run(s3, plane, whole, "results/b")


def test_an_empty_input_is_unreadable(s3: Any, plane: DataPlane) -> None:
    s3.put_object(Bucket=BUCKET, Key="incoming/iris/e.csv", Body=b"")
    with pytest.raises(UnreadableInput, match="empty"):
        run(s3, plane, S3ObjectSource(s3, InputRef(BUCKET, "incoming/iris/e.csv"), Format.CSV), "x")


def test_before_block_can_stop_the_run(s3: Any, plane: DataPlane) -> None:
    s3.put_object(Bucket=BUCKET, Key="incoming/iris/a.csv", Body=iris_csv(900))
    source = S3ObjectSource(s3, InputRef(BUCKET, "incoming/iris/a.csv"), Format.CSV)
    counts = RowCounts()
    blocks = []

    def stop_at_third() -> None:
        blocks.append(counts.read)
        if len(blocks) == 3:
            raise TimeoutError("stop")

    sink = S3MultipartSink(
        s3, BUCKET, predictions_key="o", errors_key="e", content_type="text/csv", part_bytes=5 << 20
    )
    assert source.open() is None
    with pytest.raises(TimeoutError):
        pipeline(plane).run(source, sink, counts, stop_at_third)
    sink.discard()
    source.close()
    assert len(blocks) == 3 and counts.read < 900
