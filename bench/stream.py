"""Streaming: a 100-message SQS event through the stream function's handler, messages/s
against the same 100 rows as single-row REST invocations of the model function.

Both sides run the real handlers in-process with the template's environment. The REST
side is one seed-style `features` request per row (`/models/breast_cancer/versions/2/
predict`, each row unique so the prediction cache never answers). The stream side parses
the 100 messages, scores them in one onnxruntime call, encodes 100 results and builds the
partial-batch response with Powertools; its sends to the output queue are timed on their
own (moto's SQS server on loopback), as the REST side's response travels after the
handler returns too.
"""

from __future__ import annotations

import itertools
import json
import os
import socket
from collections.abc import Callable
from typing import Any

import numpy as np

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table, Target
from bench.stats import Summary, interleaved, summarize, time_calls
from bench.warm import PATHS
from lambdaserve.stream.messages import EventKind, messages
from lambdaserve.stream.processor import StreamProcessor
from lambdaserve.stream.results import Result

MESSAGES = 100
SEND_ROUNDS = 10  # timed sends per sending subject
LABELS = {
    "rest": f"{MESSAGES} single-row REST invocations (seed-style `features`)",
    "stream": f"one {MESSAGES}-message SQS event, output sends excluded",
    "stream_sqs": f"one {MESSAGES}-message SQS event, sending to moto's SQS server",
    "sqs_send": f"the {MESSAGES} results' SendMessageBatch calls alone (moto, loopback)",
}


def sqs_event(rows: np.ndarray, start: int) -> dict[str, Any]:
    """Lambda's SQS event: one seed-style message per row, routed to breast_cancer v2."""
    records = []
    for i, row in enumerate(rows):
        body = {"model": fixtures.MODEL, "version": fixtures.VERSION, "id": f"r{start + i}"}
        body["features"] = row.tolist()
        records.append(
            {
                "messageId": f"00000000-0000-4000-8000-{start + i:012d}",
                "receiptHandle": f"handle-{start + i}",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:bench-input",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def moto_sqs() -> tuple[Any, str]:
    """moto's SQS server on a free loopback port (stopped by the caller), and its endpoint."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def run(budget: Budget) -> Section:
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    calls = max(3, budget.batch_requests)
    # Every row unique across the whole run, so the REST function's prediction cache (on by
    # default) never answers: both sides run the model for every row.
    warm_up = max(2, calls // 10)
    rows = fixtures.unique_rows(MESSAGES * (calls + warm_up + 1))
    batches = [rows[i : i + MESSAGES] for i in range(0, len(rows), MESSAGES)]
    rest = fixtures.model_handler("bench_stream_model_api")
    server, endpoint = moto_sqs()
    saved = dict(os.environ)
    try:
        os.environ.update(
            AWS_ENDPOINT_URL_SQS=endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
        )
        env = fixtures.function_env("StreamPredictFunction")
        queue = env["LAMBDASERVE_STREAM_OUTPUT_QUEUE"]
        stream = fixtures.load_module(
            fixtures.ROOT / "functions" / "stream_predict" / "app.py", "bench_stream", env
        )
        client = stream.sqs()
        client.create_queue(QueueName=queue.rsplit("/", 1)[1])
        return _measure(budget, calls, batches, rest, stream, client, queue)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        server.stop()


def _measure(
    budget: Budget,
    calls: int,
    batches: list[np.ndarray],
    rest: Any,
    stream: Any,
    client: Any,
    queue: str,
) -> Section:
    events = [sqs_event(b, i * MESSAGES) for i, b in enumerate(batches)]
    requests = [
        [http_event("POST", PATHS["simple"], {"features": r.tolist()}) for r in b] for b in batches
    ]
    compute = StreamProcessor(stream.plane, [], stream.processor.config)
    # Same answers on both sides before anything is timed.
    expected = [
        json.loads(fixtures.check_ok(rest.handler(e, None))["body"])["prediction"]
        for e in requests[0]
    ]
    encoded, retry = compute.results(messages(events[0], EventKind.SQS))
    got = [json.loads(r.body)["prediction"] for r in encoded]
    if retry or got != expected:
        raise RuntimeError("stream predictions differ from the REST function's")
    if stream.handler(events[0], None) != {"batchItemFailures": []}:
        raise RuntimeError("the stream handler reported failures")
    results: list[list[Result]] = [
        compute.results(messages(e, EventKind.SQS))[0] for e in events[:SEND_ROUNDS]
    ]
    sink = stream.sinks[0]

    rest_cycle = iter(requests[1:])
    stream_cycle = iter(events[1:])
    full_cycle = itertools.cycle(events)
    send_cycle = itertools.cycle(results)

    def rest_batch() -> None:
        for event in next(rest_cycle):
            rest.handler(event, None)

    subjects: dict[str, Callable[[], Any]] = {
        "rest": rest_batch,
        "stream": lambda: compute.handle(next(stream_cycle)),
    }
    interleaved(subjects, max(2, calls // 10), block=5)
    measured = interleaved(subjects, calls, block=5)  # each batch used once (first: checks)
    # moto slows down as its queue fills, so the sending subjects run a few times each,
    # the queue emptied between them (the figures are for information, not the target).
    sending: dict[str, Callable[[], Any]] = {
        "stream_sqs": lambda: stream.handler(next(full_cycle), None),
        "sqs_send": lambda: sink.send(next(send_cycle)),
    }
    samples: dict[str, list[float]] = {name: [] for name in sending}
    for _ in range(max(1, min(calls, SEND_ROUNDS))):
        for name, call in sending.items():
            samples[name].extend(time_calls(call, 1))
            # Emptied by replacing it (moto allows one purge a minute, as SQS does).
            client.delete_queue(QueueUrl=queue)
            client.create_queue(QueueName=queue.rsplit("/", 1)[1])
    measured.update({name: summarize(values) for name, values in samples.items()})
    return section(measured, budget)


def section(results: dict[str, Summary], budget: Budget) -> Section:
    def rate(s: Summary) -> float:
        return MESSAGES / (s.p50_us / 1e6)

    rest, stream = rate(results["rest"]), rate(results["stream"])
    rows = [
        [LABELS[name], rate(s), s.p50_us / 1e3, s.p99_us / 1e3, rate(s) / rest]
        for name, s in results.items()
    ]
    return Section(
        "stream",
        f"8. Streaming ({MESSAGES}-message SQS events through the stream function)",
        targets=[
            Target(
                "stream_messages_per_s",
                f"{MESSAGES}-message SQS event through the handler (one model call)",
                stream,
                f"{MESSAGES} single-row REST invocations",
                rest,
                "messages/s",
                stream / rest,
                ">=",
                20.0,
                "x REST",
            )
        ],
        tables=[
            Table(
                "Messages per second at p50 (breast_cancer version 2, a 100-tree forest)",
                ["subject", "messages/s", "p50 ms", "p99 ms", "x REST"],
                rows,
            )
        ],
        notes=[
            "Both handlers run in-process with the template's environment; ORT uses 1 "
            "intra-op thread. Neither side counts the network after the handler: API "
            "Gateway's response on one side, the output queue's SendMessageBatch calls on "
            "the other (timed alone on moto's loopback server, whose Python request "
            "handling is slower than SQS's service time; the handler sends 10 batches "
            "of 10 one after the other to keep the results in order).",
        ],
        data={
            name: {**s.to_json(), "messages_per_s": round(rate(s))} for name, s in results.items()
        },
    )
