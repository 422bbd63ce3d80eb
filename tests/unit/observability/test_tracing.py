"""X-Ray subsegments from a real recorder: a request through Mangum, a batch pipeline's steps."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aws_xray_sdk.core.context import Context
from aws_xray_sdk.core.models.entity import Entity
from aws_xray_sdk.core.recorder import AWSXRayRecorder
from mangum import Mangum

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.keys import Format
from lambdaserve.batch.pipeline import BlockPipeline
from lambdaserve.batch.prediction_columns import Outputs
from lambdaserve.batch.summary import RowCounts
from lambdaserve.dataplane import create_dataplane
from lambdaserve.observability import tracing
from lambdaserve.observability.tracing import Span, SpanLog, Tracing, TracingStage
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings

ROOT = Path(__file__).resolve().parents[3]


class Captured:
    """The emitter X-Ray's recorder sends finished segments to (instead of the daemon)."""

    def __init__(self) -> None:
        self.entities: list[Entity] = []

    def send_entity(self, entity: Entity) -> None:
        self.entities.append(entity)

    def set_daemon_address(self, address: str) -> None:
        pass


@pytest.fixture
def recorder(lambda_event_loop: None) -> Iterator[AWSXRayRecorder]:
    captured = Captured()
    rec = AWSXRayRecorder()
    rec.configure(sampling=False, context=Context(), emitter=captured, streaming_threshold=1000)
    rec.captured = captured  # type: ignore[attr-defined]
    yield rec


def _subsegments(rec: AWSXRayRecorder) -> list[dict[str, Any]]:
    (segment,) = rec.captured.entities  # type: ignore[attr-defined]
    return [json.loads(s.serialize()) for s in segment.subsegments]


def _settings(**changes: Any) -> Settings:
    return dataclasses.replace(Settings(SOURCE_MODEL_REPOSITORY, "iris"), **changes)


def test_a_request_through_mangum_leaves_decode_inference_encode_subsegments(
    recorder: AWSXRayRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "powertools_tracing", lambda: Tracing(recorder))
    handler = Mangum(create_model_app(_settings(tracing=True)), lifespan="off")
    event = json.loads((ROOT / "events" / "api" / "iris_predict.json").read_text())
    recorder.begin_segment("iris")
    response = handler(event, None)
    recorder.end_segment()
    assert response["statusCode"] == 200
    subsegments = _subsegments(recorder)
    assert [s["name"] for s in subsegments] == ["decode", "inference", "encode"]
    for s in subsegments:
        assert s["annotations"] == {
            "model": "iris",
            "version": "1",
            "route": "predict",
            "status": 200,
            "cache": "miss",
        }
        assert s["start_time"] <= s["end_time"]
    # Back to back, as measured: each step starts where the one before it ended.
    for before, after in itertools.pairwise(subsegments):
        assert after["start_time"] == pytest.approx(before["end_time"], abs=1e-6)


def test_tracing_off_adds_no_stage() -> None:
    plane = create_dataplane(_settings(), served=["iris"])
    assert not any(isinstance(s, TracingStage) for s in plane.stages)


def test_a_refused_request_is_traced_as_far_as_it_got(
    recorder: AWSXRayRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracing, "powertools_tracing", lambda: Tracing(recorder))
    handler = Mangum(create_model_app(_settings(tracing=True)), lifespan="off")
    event = json.loads((ROOT / "events" / "api" / "iris_predict.json").read_text())
    event["body"] = json.dumps({"features": [1.0, 2.0]})  # one feature short: a 400
    recorder.begin_segment("iris")
    assert handler(event, None)["statusCode"] == 400
    recorder.end_segment()
    # Decoded, then refused by the model's width check: the failed step is a 4xx error.
    decode, inference = _subsegments(recorder)
    assert (decode["name"], inference["name"]) == ("decode", "inference")
    assert "error" not in decode and inference["error"] is True
    assert inference["annotations"]["status"] == 400


def test_no_segment_to_attach_to_emits_nothing_and_raises_nothing() -> None:
    rec = AWSXRayRecorder()
    rec.configure(sampling=False, context=Context(context_missing="IGNORE_ERROR"))
    Tracing(rec).emit([Span("decode", 1.0, 2.0)], {"model": "iris"})


def test_a_batch_pipeline_records_each_blocks_steps(s3_csv: Any) -> None:
    plane = create_dataplane(_settings(), served=["iris"])
    model = plane.model("iris")

    def predict(features: np.ndarray) -> Outputs:
        return model.predict({"input": features})

    config = BatchConfig(block_bytes=4096, first_block_bytes=1024)
    pipeline = BlockPipeline(predict, model.manifest, config)
    spans = SpanLog()
    source, sink = s3_csv
    pipeline.run(source, sink, RowCounts(), spans=spans)
    names = [s.name for s in spans.spans]
    blocks = names.count("predict")
    assert blocks > 3
    assert names.count("write") == blocks and names.count("read") >= 1
    assert names.count("parse") == 2 * blocks  # prepare (reader) + finish (predictor)
    assert all(s.start <= s.end for s in spans.spans)


def test_a_span_log_keeps_its_first_spans_and_counts_the_rest() -> None:
    log = SpanLog(limit=2)
    for i in range(5):
        log.record("predict", float(i), float(i) + 0.5)
    assert [s.start for s in log.spans] == [0.0, 1.0] and log.dropped == 3


def test_powertools_provides_the_recorder_with_botocore_patched(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aws_xray_sdk import global_sdk_config
    from aws_xray_sdk.core import patcher, xray_recorder

    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/var/task")  # Powertools traces in Lambda only
    monkeypatch.delenv("POWERTOOLS_TRACE_DISABLED", raising=False)
    try:
        made = tracing.powertools_tracing()
        assert made.recorder is xray_recorder
        assert "botocore" in patcher._PATCHED_MODULES
    finally:
        global_sdk_config.set_sdk_enabled(True)


@pytest.fixture
def s3_csv(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    import boto3
    from moto import mock_aws

    from lambdaserve.batch.sink import S3MultipartSink
    from lambdaserve.batch.source import InputRef, S3ObjectSource

    for name, value in (("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "x")):
        monkeypatch.setenv(name, value)
    rng = np.random.default_rng(3)
    lines = [",".join(f"{v:.2f}" for v in rng.uniform(0, 8, 4)) for _ in range(2000)]
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="traced-input")
        s3.put_object(Bucket="traced-input", Key="in.csv", Body=("\n".join(lines) + "\n").encode())
        source = S3ObjectSource(s3, InputRef("traced-input", "in.csv"), Format.CSV)
        sink = S3MultipartSink(
            s3,
            "traced-input",
            predictions_key="out.csv",
            errors_key="out.errors.csv",
            content_type="text/csv",
            part_bytes=5 << 20,
        )
        assert source.open() is None
        try:
            yield source, sink
        finally:
            source.close()
