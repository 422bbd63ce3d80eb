"""Per-request cost of a request's log + metrics record: Powertools vs the lean EMF path.

`python scripts/observability_cost.py [calls]` prints microseconds per record for
Powertools' Logger (one structured line), Powertools' Metrics (the same six metrics under
two dimension sets, flushed per request as EMF) and lambdaserve's one-line EMF record,
each writing to an in-memory stream, plus Powertools' import time in a fresh interpreter.
Times are CPU time (thread / process), so other load on a shared machine inflates them less.
The README's Observability section quotes its output.
"""

from __future__ import annotations

import contextlib
import io
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

FIELDS = {
    "route": "predict",
    "status": 200,
    "latency_ms": 0.31,
    "decode_ms": 0.02,
    "inference_ms": 0.03,
    "encode_ms": 0.01,
    "cache": "miss",
    "cold_start": False,
    "inference_id": "5f0c8e0b2f0d4a49a6b1d2c3e4f5a6b7",
    "function_request_id": "0a1b2c3d-0000-4000-8000-000000000000",
}


def per_call_us(fn: Callable[[], None], calls: int, repeats: int = 5) -> float:
    samples = []
    for _ in range(repeats):
        start = time.thread_time()  # CPU time: machines here are shared and noisy
        for _ in range(calls):
            fn()
        samples.append((time.thread_time() - start) / calls * 1e6)
    return statistics.median(samples)


def import_ms(statement: str) -> float:
    code = f"import time; t = time.process_time(); {statement}; print(time.process_time() - t)"
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(5)
    ]
    return statistics.median(runs) * 1000


_AFTER_RUNTIME = (
    "import fastapi, numpy, onnxruntime, orjson, mangum; t = time.process_time(); "
    "from aws_lambda_powertools import Logger"
)


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    from lambdaserve.observability import emf, names

    sink = io.StringIO()
    logger = Logger(service="lambdaserve", stream=sink)
    metrics = Metrics(namespace="lambdaserve")

    def powertools_logger() -> None:
        logger.info("request", extra=FIELDS)

    def powertools_metrics() -> None:
        metrics.add_dimensions(model="iris")
        metrics.add_dimensions(model="iris", version="1")
        metrics.add_metric(name="Requests", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Errors4xx", unit=MetricUnit.Count, value=0)
        metrics.add_metric(name="Errors5xx", unit=MetricUnit.Count, value=0)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=0.31)
        metrics.add_metric(name="InferenceLatency", unit=MetricUnit.Milliseconds, value=0.03)
        metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=1)
        metrics.flush_metrics()

    def lean() -> None:
        doc = emf.document(
            {names.MODEL: "iris", names.VERSION: "1"},
            (names.BY_MODEL, names.BY_VERSION),
            [
                (names.REQUESTS, names.COUNT, 1.0),
                (names.ERRORS_4XX, names.COUNT, 0.0),
                (names.ERRORS_5XX, names.COUNT, 0.0),
                (names.LATENCY, names.MILLISECONDS, 0.31),
                (names.INFERENCE_LATENCY, names.MILLISECONDS, 0.03),
                (names.CACHE_MISSES, names.COUNT, 1.0),
            ],
            {"level": "INFO", "message": "request", **FIELDS},
        )
        sink.write(emf.dumps(doc) + "\n")

    with contextlib.redirect_stdout(sink):
        rows = [
            ("Powertools Logger.info, 10 keys", per_call_us(powertools_logger, calls)),
            (
                "Powertools Metrics, 6 metrics x 2 dimension sets, flush",
                per_call_us(powertools_metrics, calls),
            ),
            ("lambdaserve EMF line (log + the same metrics)", per_call_us(lean, calls)),
        ]
    for label, us in rows:
        print(f"{label:60s} {us:8.1f} us/request")
    for label, statement in (
        (
            "import Powertools Logger (fresh interpreter)",
            "from aws_lambda_powertools import Logger",
        ),
        ("import Powertools Logger after the runtime's packages", _AFTER_RUNTIME),
    ):
        print(f"{label:60s} {import_ms(statement):8.1f} ms")


if __name__ == "__main__":
    main()
