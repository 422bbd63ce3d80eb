"""Fixed-shape model calls keyed by line number: a row's output does not depend on its block."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.batch.aligned import predict_aligned

MODELS = Path(__file__).resolve().parents[3] / "layers" / "models"


@pytest.fixture(scope="module")
def iris() -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(str(MODELS / "iris" / "1" / "model.onnx"), options)


def rows(count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    features = np.round(rng.uniform(0.1, 8, size=(count, 4)), 2).astype(np.float32)
    lines = np.cumsum(rng.integers(1, 3, size=count)) + 1  # gaps: bad rows, the header
    return features, lines


def test_the_problem_it_solves_batch_size_changes_the_last_bit(iris: ort.InferenceSession) -> None:
    features, _ = rows(20_000)
    whole = iris.run(None, {"input": features})[1]
    parts = np.concatenate(
        [iris.run(None, {"input": features[i : i + 1000]})[1] for i in range(0, 20_000, 1000)]
    )
    assert not np.array_equal(whole, parts)  # (if ORT ever fixes this, the module is moot)


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 5_999), max_size=6, unique=True))
def test_any_cut_gives_the_same_bytes(iris: ort.InferenceSession, cuts: list[int]) -> None:
    features, lines = rows(6_000)

    def predict(batch: np.ndarray) -> dict[str, np.ndarray]:
        assert batch.shape[0] == 1024  # every call has the same shape
        label, probabilities = iris.run(None, {"input": batch})
        return {"label": label, "probabilities": probabilities}

    whole = predict_aligned(predict, features, lines)
    bounds = [0, *sorted(cuts), 6_000]
    pieces = [
        predict_aligned(predict, features[a:b], lines[a:b]) for a, b in itertools.pairwise(bounds)
    ]
    for name in whole:
        joined = np.concatenate([p[name] for p in pieces])
        assert joined.tobytes() == whole[name].tobytes()
    direct = iris.run(None, {"input": features})
    assert np.array_equal(whole["label"], direct[0])
    np.testing.assert_allclose(whole["probabilities"], direct[1], rtol=1e-6)


def test_no_rows_is_one_empty_call() -> None:
    calls: list[int] = []

    def predict(batch: np.ndarray) -> dict[str, np.ndarray]:
        calls.append(batch.shape[0])
        return {"prediction": np.zeros(batch.shape[0])}

    out = predict_aligned(predict, np.zeros((0, 4), np.float32), np.zeros(0, np.int64))
    assert calls == [0] and out["prediction"].shape == (0,)
