"""The model on a block's rows in fixed-shape calls aligned to input line numbers.

onnxruntime's kernels pick their code path by batch size (e.g. the iris classifier's
probabilities differ in the last bit between calls below and above ~10,000 rows), so a
row's output would depend on which block it was read in. A fan-out shard starts its
blocks elsewhere than the single-function path does, and its output must be byte for
byte the same; so every call has the same shape: rows whose input line numbers fall in
[k*CHUNK, (k+1)*CHUNK) go to call k, each at slot `line - k*CHUNK`, and the empty slots
repeat one of the call's rows (a valid input; those outputs are dropped). A row's output
then depends only on its own features and line number, however the input was cut.
Fixed calls of this size are as fast as one large call (bench: batch_job).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CHUNK = 1024

Outputs = dict[str, np.ndarray]


def predict_aligned(
    predict: Callable[[np.ndarray], Outputs],
    features: np.ndarray,
    lines: np.ndarray,
    chunk: int = CHUNK,
) -> Outputs:
    """`predict(features)`, computed as fixed `chunk`-row calls keyed by `lines` (ascending)."""
    if features.shape[0] == 0:
        return predict(features)
    groups = lines // chunk
    bounds = np.flatnonzero(np.diff(groups)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [features.shape[0]]))
    pieces: dict[str, list[np.ndarray]] = {}
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        slots = lines[start:end] - groups[start] * chunk
        batch = np.repeat(features[start : start + 1], chunk, axis=0)
        batch[slots] = features[start:end]
        for name, values in predict(batch).items():
            pieces.setdefault(name, []).append(np.asarray(values)[slots])
    return {name: np.concatenate(parts) for name, parts in pieces.items()}
