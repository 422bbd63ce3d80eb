from __future__ import annotations

import json
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lambdaserve.observability.capture import (
    MAX_DATA_CHARS,
    CapturePolicy,
    Sampler,
    capture_record,
    decode_tensors,
    inference_time,
    tensor_digest,
)

SALT = b"0123456789abcdef-salt"
ROW = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)
OUT = {
    "label": np.array([0], dtype=np.int64),
    "probabilities": np.array([[0.98, 0.02, 0.0]], np.float32),
}


def _record(policy: CapturePolicy, inputs: dict[str, np.ndarray] | None = None) -> dict:
    record = capture_record(
        model="iris",
        version="1",
        inference_id="req-42",
        inputs={"input": ROW} if inputs is None else inputs,
        outputs=OUT,
        policy=policy,
        epoch_seconds=1_795_000_000.25,
    )
    return json.loads(json.dumps(record))  # what a reader of the JSON line sees


def test_full_record_has_the_data_capture_shape_and_decodes_back() -> None:
    record = _record(CapturePolicy(100.0))
    assert record["eventVersion"] == "0"
    captured_in = record["captureData"]["endpointInput"]
    captured_out = record["captureData"]["endpointOutput"]
    assert (captured_in["mode"], captured_in["encoding"]) == ("INPUT", "JSON")
    assert (captured_out["mode"], captured_out["encoding"]) == ("OUTPUT", "JSON")
    assert (
        captured_in["observedContentType"]
        == captured_out["observedContentType"]
        == "application/json"
    )
    meta = record["eventMetadata"]
    assert meta["inferenceId"] == "req-42"
    assert re.fullmatch(r"[0-9a-f-]{36}", meta["eventId"])
    assert meta["inferenceTime"] == "2026-11-18T11:06:40.250Z"
    assert (meta["model"], meta["modelVersion"], meta["inputPrivacy"]) == ("iris", "1", "full")
    inputs = decode_tensors(captured_in["data"])
    assert inputs["input"].dtype == np.float32
    np.testing.assert_array_equal(inputs["input"], ROW)
    outputs = decode_tensors(captured_out["data"])
    np.testing.assert_array_equal(outputs["label"], OUT["label"])
    np.testing.assert_array_equal(outputs["probabilities"], OUT["probabilities"])


@given(
    hnp.arrays(
        st.sampled_from([np.float32, np.float64, np.int64, np.int32, np.uint8, np.bool_]),
        hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
    ).filter(lambda a: a.dtype.kind != "f" or bool(np.isfinite(a).all()))
)
def test_any_numeric_tensor_round_trips(array: np.ndarray) -> None:
    record = _record(CapturePolicy(100.0), {"x": array})
    back = decode_tensors(record["captureData"]["endpointInput"]["data"])["x"]
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def test_hash_mode_keeps_no_values_but_matches_equal_inputs() -> None:
    policy = CapturePolicy(100.0, "hash", SALT)
    record = _record(policy)
    data = record["captureData"]["endpointInput"]["data"]
    assert "5.1" not in data
    [tensor] = json.loads(data)["inputs"]
    assert tensor["shape"] == [1, 4] and tensor["datatype"] == "FP32"
    assert re.fullmatch(r"[0-9a-f]{64}", tensor["hmac_sha256"])
    assert _record(policy)["captureData"]["endpointInput"]["data"] == data
    other = _record(policy, {"input": ROW + 1})["captureData"]["endpointInput"]["data"]
    assert other != data
    salted = _record(CapturePolicy(100.0, "hash", SALT + b"x"))
    assert salted["captureData"]["endpointInput"]["data"] != data
    assert record["eventMetadata"]["inputPrivacy"] == "hash"


def test_drop_mode_leaves_the_input_out_and_keeps_the_output() -> None:
    record = _record(CapturePolicy(100.0, "drop"))
    assert "endpointInput" not in record["captureData"]
    assert decode_tensors(record["captureData"]["endpointOutput"]["data"])["label"].tolist() == [0]


def test_an_input_too_big_for_one_log_event_is_left_out_and_said_so() -> None:
    big = np.zeros((1, MAX_DATA_CHARS), dtype=np.float32)
    record = _record(CapturePolicy(100.0), {"input": big})
    assert "endpointInput" not in record["captureData"]
    assert "above" in record["eventMetadata"]["inputOmitted"]
    assert "endpointOutput" in record["captureData"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"percent": -1.0}, "0..100"),
        ({"percent": 100.5}, "0..100"),
        ({"privacy": "redact"}, "one of"),
        ({"privacy": "hash"}, "salt"),
        ({"privacy": "hash", "salt": b"short"}, "salt"),
    ],
)
def test_bad_policies_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CapturePolicy(**kwargs)


def test_sampler_draws_the_configured_fraction() -> None:
    sampler = Sampler(10.0)
    hits = sum(sampler() for _ in range(20_000))
    assert 1_700 < hits < 2_300  # 10% within ~7 standard deviations
    assert not any(Sampler(0.0)() for _ in range(1000))
    assert all(Sampler(100.0)() for _ in range(1000))


def test_reseeded_samplers_do_not_repeat_each_other() -> None:
    a, b = Sampler(50.0), Sampler(50.0)
    a.reseed()
    b.reseed()
    assert [a() for _ in range(64)] != [b() for _ in range(64)]


def test_inference_time_is_iso_utc_with_milliseconds() -> None:
    assert inference_time(0.0) == "1970-01-01T00:00:00.000Z"
    assert inference_time(1_795_000_000.999) == "2026-11-18T11:06:40.999Z"


def test_a_text_models_tensors_are_captured_as_bytes_and_read_back() -> None:
    texts = np.array([["Love it, works perfectly"], ["Broke after two days"]], dtype=object)
    labels = np.array(["positive", "negative"], dtype=object)
    record = capture_record(
        model="reviews",
        version="1",
        inference_id="t-1",
        inputs={"input": texts},
        outputs={"label": labels},
        policy=CapturePolicy(percent=100.0),
    )
    data = record["captureData"]
    assert '"datatype":"BYTES"' in data["endpointInput"]["data"]
    assert decode_tensors(data["endpointInput"]["data"])["input"].tolist() == texts.tolist()
    assert decode_tensors(data["endpointOutput"]["data"])["label"].tolist() == labels.tolist()
    salted = CapturePolicy(percent=100.0, privacy="hash", salt=b"s" * 16)
    as_bytes = texts.astype(str).astype(bytes).astype(object)
    digests = [tensor_digest("input", t, salted.salt)["hmac_sha256"] for t in (texts, as_bytes)]
    assert digests[0] == digests[1]  # a text hashes alike as str or UTF-8 bytes
