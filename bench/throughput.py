"""Batch requests: 1,000-row requests through the handler, rows/s against raw ORT.

The same 1,000 x 30 rows go through each protocol's batch form: seed-style `instances`
(per-row objects with label and probabilities), TF Serving `instances` (row format) and
Open Inference V2 (one FP32 tensor). Raw ORT runs the same float32 array, no HTTP.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table, Target
from bench.stats import Summary, interleaved
from bench.warm import PATHS

LABELS = {
    "simple": "seed-style `instances` (per-row label + probabilities)",
    "tfserving": "TF Serving `instances` (row format)",
    "v2": "Open Inference V2, JSON tensor data",
    "v2_binary": "Open Inference V2, binary tensor data (tritonclient's default)",
    "raw_ort": "raw `session.run` on the same float32 array",
}


def body(path: str, rows: np.ndarray) -> dict[str, Any]:
    if path == "v2":
        data = rows.ravel().tolist()
        tensor = {"name": "input", "shape": list(rows.shape), "datatype": "FP32", "data": data}
        return {"inputs": [tensor]}
    return {"instances": rows.tolist()}


def run(budget: Budget) -> Section:
    n = budget.batch_rows
    batches = [fixtures.sample_rows(n, seed=s) for s in range(4)]
    ours = fixtures.model_handler()
    session = ours.app.state.dataplane.model(fixtures.MODEL, fixtures.VERSION).session
    arrays = [b.astype(np.float32) for b in batches]
    events = {p: [http_event("POST", PATHS[p], body(p, b)) for b in batches] for p in PATHS}
    events["v2_binary"] = [binary_event(a) for a in arrays]

    expected = session.run(["label"], {"input": arrays[0]})[0].tolist()
    for path in events:
        answer = orjson.loads(fixtures.check_ok(ours.handler(events[path][0], None))["body"])
        if _labels(path, answer) != expected:
            raise RuntimeError(f"{path}: batch labels differ from ORT's")

    feeds = itertools.cycle(arrays)
    subjects: dict[str, Callable[[], Any]] = {
        "raw_ort": lambda: session.run(None, {"input": next(feeds)}),
    }
    for path in events:
        cycle = itertools.cycle(events[path])
        subjects[path] = lambda c=cycle: ours.handler(next(c), None)  # type: ignore[misc]
    interleaved(subjects, max(2, budget.batch_requests // 10), block=5)
    results = interleaved(subjects, budget.batch_requests, block=5)
    request_bytes = {p: len(events[p][0]["body"]) for p in events}
    return section(results, n, request_bytes)


def binary_event(array: np.ndarray) -> dict[str, Any]:
    """Triton's binary tensor extension: a JSON header, then the raw little-endian tensor."""
    raw = array.astype("<f4").tobytes()
    tensor = {
        "name": "input",
        "shape": list(array.shape),
        "datatype": "FP32",
        "parameters": {"binary_data_size": len(raw)},
    }
    header = orjson.dumps({"inputs": [tensor]})
    return http_event(
        "POST",
        PATHS["v2"],
        binary=header + raw,
        extra_headers={"inference-header-content-length": str(len(header))},
    )


def _labels(path: str, answer: dict[str, Any]) -> list[int]:
    if path == "simple":
        return [row["prediction"] for row in answer["predictions"]]
    if path == "tfserving":
        return [row["label"] for row in answer["predictions"]]
    label = next(o for o in answer["outputs"] if o["name"] == "label")
    return list(label["data"])


def section(results: dict[str, Summary], n: int, request_bytes: dict[str, int]) -> Section:
    def rate(s: Summary) -> float:
        return n / (s.p50_us / 1e6)

    raw = rate(results["raw_ort"])
    best = max((p for p in results if p != "raw_ort"), key=lambda p: rate(results[p]))
    rows = [
        [
            LABELS[name],
            rate(s),
            s.p50_us / 1e3,
            s.p99_us / 1e3,
            rate(s) / raw,
            request_bytes.get(name, 0),
        ]
        for name, s in results.items()
    ]
    return Section(
        "batch_requests",
        f"3. Batch requests ({n:,} rows per request, full handler)",
        targets=[
            Target(
                "batch_request_rows_per_s",
                f"{n:,}-row request throughput, best path ({LABELS[best].split(' (')[0]})",
                rate(results[best]),
                "raw ORT",
                raw,
                "rows/s",
                rate(results[best]) / raw,
                ">=",
                0.5,
                "of raw ORT",
            )
        ],
        tables=[
            Table(
                "Rows per second at p50 (request = JSON body in an API Gateway v2 event)",
                ["path", "rows/s", "p50 ms", "p99 ms", "of raw ORT", "body bytes"],
                rows,
            )
        ],
        notes=[
            "ORT runs with the function's settings (1 intra-op thread, as on a 1-vCPU Lambda).",
            "The seed-style form returns an object per row (label name, probability, "
            "per-class map); TF Serving and V2 return arrays, which orjson writes from numpy.",
        ],
        data={name: {**s.to_json(), "rows_per_s": round(rate(s))} for name, s in results.items()},
    )
