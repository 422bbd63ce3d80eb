from __future__ import annotations

import json
from typing import Any

import boto3
import numpy as np
from moto import mock_aws

from lambdaserve.observability import emf
from lambdaserve.observability.capture import CapturePolicy, capture_record, decode_tensors
from lambdaserve.observability.local_capture import CaptureShipper, capture_key

ROW = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)


def _line() -> str:
    record = capture_record(
        model="iris",
        version="1",
        inference_id="abc",
        inputs={"input": ROW},
        outputs={"label": np.array([0])},
        policy=CapturePolicy(100.0),
        epoch_seconds=1_795_000_000.0,  # 2026-11-18T11:06:40Z
    )
    return emf.dumps(record)


def test_capture_records_land_where_firehose_would_put_them(aws_env: None) -> None:
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="batch")
        ship = CaptureShipper(s3, "batch")
        ship("IrisFunction", '{"level":"INFO","message":"request","Requests":1}')
        ship("IrisFunction", "START RequestId: 1 Version: $LATEST")
        ship("IrisFunction", _line())
        [obj] = s3.list_objects_v2(Bucket="batch")["Contents"]
        assert obj["Key"].startswith("capture/iris/1/2026/11/18/11/IrisFunction-")
        assert obj["Key"].endswith(".jsonl")
        body = s3.get_object(Bucket="batch", Key=obj["Key"])["Body"].read().decode()
        record: dict[str, Any] = json.loads(body)
        inputs = decode_tensors(record["captureData"]["endpointInput"]["data"])
        np.testing.assert_array_equal(inputs["input"], ROW)


def test_non_capture_lines_have_no_key() -> None:
    assert capture_key({"eventVersion": "0"}, "F") is None
    assert capture_key({"captureData": {}, "eventMetadata": {"model": "iris"}}, "F") is None
    record = json.loads(_line())
    assert capture_key(record, "F") == (
        f"capture/iris/1/2026/11/18/11/F-{record['eventMetadata']['eventId']}.jsonl"
    )


def test_a_stopped_local_s3_never_breaks_the_runtime(aws_env: None) -> None:
    with mock_aws():
        s3 = boto3.client("s3")  # the bucket does not exist
        CaptureShipper(s3, "gone")("IrisFunction", _line())
