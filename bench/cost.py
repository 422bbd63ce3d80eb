"""Cost per million predictions: measured billed durations x memory from the template x prices.

Lambda bills each invocation's duration rounded up to 1 ms at the function's memory, plus a
request fee; the HTTP API bills each request (per 512 KB). So the cost of a protocol is the
mean of ceil(duration) over real calls of our handler, which this section measures for every
protocol with 1-row and 100-row requests (the in-process handler time: Lambda's runtime
client adds its own small share, which REPORT lines will include once the local runtime
emits them). The S3 batch job's cost comes from the batch section's measured job time.
The same measured durations are priced as SageMaker Serverless Inference at the same memory
(rounded up to its next size) and as one always-on container like the seed's deployment.
Prices live in bench/prices.json, dated, with their sources.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table
from bench.throughput import binary_event
from bench.throughput import body as batch_body
from bench.warm import PATHS
from bench.warm import bodies as single_bodies

PRICES = Path(__file__).with_name("prices.json")
TEMPLATE = fixtures.ROOT / "template.yaml"
ARCHES = ("x86_64", "arm64")
MILLION = 1_000_000
VCPU_MB = 1769  # Lambda gives one vCPU per 1,769 MB


def load_prices(path: Path = PRICES) -> dict[str, Any]:
    prices: dict[str, Any] = json.loads(path.read_text())
    return prices


# ---------------------------------------------------------------- arithmetic (unit-tested)


def billed_ms(duration_ms: float) -> int:
    """Lambda's billed duration: rounded up to the next whole millisecond, at least 1."""
    return max(1, math.ceil(duration_ms - 1e-9))


def mean_billed_ms(durations_ms: Sequence[float]) -> float:
    """What an average invocation is billed: rounding applies per call, not to the mean."""
    return statistics.fmean(billed_ms(d) for d in durations_ms)


def lambda_per_million(prices: Mapping[str, Any], arch: str, ms: float, memory_mb: int) -> float:
    """One million invocations of `ms` billed each at `memory_mb` (1 GB = 1,024 MB)."""
    lam = prices["lambda"]
    compute = ms / 1000 * memory_mb / 1024 * lam["gb_second"][arch]
    return MILLION * compute + lam["requests_per_million"]


def http_api_per_million(prices: Mapping[str, Any], request_bytes: int) -> float:
    """One million HTTP API requests; each started 512 KB of a request counts as one."""
    api = prices["http_api"]
    units = max(1, math.ceil(request_bytes / api["metered_request_bytes"]))
    return float(units * api["requests_per_million"])


def sagemaker_memory_mb(prices: Mapping[str, Any], memory_mb: int) -> int:
    """The smallest SageMaker Serverless memory size holding `memory_mb`."""
    sizes = sorted(int(s) for s in prices["sagemaker_serverless"]["per_second_by_memory_mb"])
    fitting = [s for s in sizes if s >= memory_mb]
    if not fitting:
        raise ValueError(f"SageMaker Serverless offers at most {sizes[-1]} MB, not {memory_mb}")
    return fitting[0]


def sagemaker_per_million(
    prices: Mapping[str, Any], ms: float, memory_mb: int, bytes_in_out: int
) -> float:
    """One million requests of `ms` each on SageMaker Serverless, plus data processed."""
    sm = prices["sagemaker_serverless"]
    size = sagemaker_memory_mb(prices, memory_mb)
    compute = ms / 1000 * sm["per_second_by_memory_mb"][str(size)]
    data = bytes_in_out / 1e9 * sm["data_processed_per_gb"]
    return MILLION * (compute + data)


def container_per_month(prices: Mapping[str, Any], arch: str) -> float:
    box = prices["always_on_container"]
    hourly = box["vcpu"] * box["vcpu_hour"][arch] + box["memory_gb"] * box["gb_hour"][arch]
    return float(hourly * box["hours_per_month"])


def container_per_million(prices: Mapping[str, Any], arch: str, ms: float) -> float:
    """The always-on container at 100% busy: one request per `ms` on each vCPU, all month."""
    box = prices["always_on_container"]
    capacity = box["vcpu"] * box["hours_per_month"] * 3600 * 1000 / ms
    return container_per_month(prices, arch) / capacity * MILLION


def break_even_per_month(container_month: float, serverless_per_million: float) -> float:
    """Monthly requests above which the always-on container is the cheaper one."""
    return container_month / serverless_per_million * MILLION


# ---------------------------------------------------------------- the template's memory sizes


def memory_mb(template: Mapping[str, Any], logical_id: str) -> int:
    """A function's MemorySize: its own or Globals', a parameter's default when a Ref."""
    props = template["Resources"][logical_id]["Properties"]
    size = props.get(
        "MemorySize", template.get("Globals", {}).get("Function", {}).get("MemorySize")
    )
    if isinstance(size, Mapping) and "Ref" in size:
        size = template["Parameters"][size["Ref"]]["Default"]
    return int(size)


def load_template(path: Path = TEMPLATE) -> Any:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(path))


# ---------------------------------------------------------------- measurement


@dataclass(frozen=True)
class Measured:
    protocol: str
    rows: int
    durations_ms: list[float]
    request_bytes: int
    response_bytes: int

    @property
    def billed_ms(self) -> float:
        return mean_billed_ms(self.durations_ms)

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.durations_ms)


PROTOCOLS = {
    "simple": "seed-style",
    "tfserving": "TF Serving",
    "v2": "Open Inference V2 (JSON)",
    "v2_binary": "Open Inference V2 (binary)",
}


def events_for(rows: int) -> dict[str, list[dict[str, Any]]]:
    batches = [fixtures.sample_rows(rows, seed=s) for s in range(8)]
    out: dict[str, list[dict[str, Any]]] = {}
    for protocol in PROTOCOLS:
        if protocol == "v2_binary":
            out[protocol] = [binary_event(b.astype("float32")) for b in batches]
        elif rows == 1:
            path = PATHS[protocol]
            out[protocol] = [
                http_event("POST", path, single_bodies(b[0])[protocol]) for b in batches
            ]
        else:
            path = PATHS[protocol]
            out[protocol] = [http_event("POST", path, batch_body(protocol, b)) for b in batches]
    return out


def measure(handler: Any, events: list[dict[str, Any]], calls: int) -> list[float]:
    """Wall time of each call in ms, cycling the events; the first calls warm up."""
    cycle = itertools.cycle(events)
    for _ in range(max(5, calls // 10)):
        fixtures.check_ok(handler(next(cycle), None))
    samples = []
    clock = time.perf_counter
    for _ in range(calls):
        event = next(cycle)
        start = clock()
        handler(event, None)
        samples.append((clock() - start) * 1e3)
    return samples


def measure_api(budget: Budget) -> list[Measured]:
    # The calls cycle a few events: with the prediction cache on they would all be hits
    # after the first round. Costs are priced on the model path (the cache off); the
    # cache section (1b) shows a miss with it on costs under 5% more, a hit much less.
    ours = fixtures.model_handler("bench_cost_model_api", LAMBDASERVE_CACHE_ENTRIES="0")
    calls = max(20, budget.warm_calls // 4)
    results = []
    for rows in (1, 100):
        for protocol, events in events_for(rows).items():
            answer = fixtures.check_ok(ours.handler(events[0], None))
            durations = measure(ours.handler, events, calls)
            request = len(events[0].get("body") or "")
            results.append(Measured(protocol, rows, durations, request, len(answer["body"])))
    return results


# ---------------------------------------------------------------- the section


def usd(value: float) -> str:
    """Dollars with the precision a small figure needs (a fraction of a cent shows)."""
    return f"{value:,.2f}" if value >= 1 else f"{value:.4f}"


def api_rows(
    prices: Mapping[str, Any], measured: Sequence[Measured], memory: int
) -> list[list[Any]]:
    rows = []
    for m in measured:
        per_prediction = MILLION / m.rows  # invocations per million predictions
        scale = per_prediction / MILLION
        api = http_api_per_million(prices, m.request_bytes) * scale
        lam = {a: lambda_per_million(prices, a, m.billed_ms, memory) * scale for a in ARCHES}
        data = m.request_bytes + m.response_bytes
        sm = sagemaker_per_million(prices, m.billed_ms, memory, data) * scale
        box = container_per_million(prices, "x86_64", m.p50_ms) * scale
        rows.append(
            [
                f"{PROTOCOLS[m.protocol]}, {m.rows} row{'s' if m.rows > 1 else ''}",
                m.p50_ms,
                m.billed_ms,
                usd(lam["x86_64"] + api),
                usd(lam["arm64"] + api),
                usd(api),
                usd(sm),
                usd(box),
            ]
        )
    return rows


def batch_rows(
    prices: Mapping[str, Any], batch: Mapping[str, Any], memory: int
) -> tuple[list[list[Any]], float]:
    ours = batch["lambdaserve"]
    file_rows = int(batch["rows"])
    job_ms = billed_ms(float(ours["median_seconds"]) * 1000)
    files = MILLION / file_rows  # invocations per million rows
    scale = files / MILLION
    lam = {a: lambda_per_million(prices, a, job_ms, memory) * scale for a in ARCHES}
    # SageMaker: the file sent as requests (<= 4 MB each) and an answer about as large.
    sm = sagemaker_per_million(prices, job_ms, memory, 2 * int(batch["input_bytes"])) * scale
    # The job keeps every vCPU of its memory busy: the container gets as many.
    vcpus = max(1, round(memory / VCPU_MB))
    box = vcpus * container_per_million(prices, "x86_64", job_ms) * scale
    label = f"S3 batch job ({file_rows:,}-row CSV files, {vcpus} vCPU)"
    return [[label, job_ms, *(usd(v) for v in (lam["x86_64"], lam["arm64"], sm, box))]], job_ms


def run(budget: Budget, earlier: Sequence[Section] = ()) -> Section:
    prices = load_prices()
    template = load_template()
    memory = memory_mb(template, fixtures.FUNCTION)
    measured = measure_api(budget)
    return section(prices, template, memory, measured, earlier)


def section(
    prices: Mapping[str, Any],
    template: Any,
    memory: int,
    measured: Sequence[Measured],
    earlier: Sequence[Section],
) -> Section:
    sm_memory = sagemaker_memory_mb(prices, memory)
    tables = [
        Table(
            f"API: USD per 1 million predictions ({fixtures.FUNCTION}, {memory} MB; "
            f"HTTP API included in the Lambda columns)",
            [
                "request",
                "p50 ms",
                "billed ms (mean)",
                "Lambda x86_64",
                "Lambda arm64",
                "of which HTTP API",
                f"SageMaker Serverless {sm_memory} MB",
                "always-on container, 100% busy",
            ],
            api_rows(prices, measured, memory),
        )
    ]
    notes = []
    batch = next((s for s in earlier if s.name == "batch_job" and not s.skipped), None)
    data: dict[str, Any] = {
        "prices_as_of": prices["as_of"],
        "api_memory_mb": memory,
        "api": [
            {
                "protocol": m.protocol,
                "rows": m.rows,
                "p50_ms": round(m.p50_ms, 3),
                "billed_ms": round(m.billed_ms, 3),
                "request_bytes": m.request_bytes,
                "response_bytes": m.response_bytes,
                "usd_per_million_predictions": {
                    arch: round(
                        (
                            lambda_per_million(prices, arch, m.billed_ms, memory)
                            + http_api_per_million(prices, m.request_bytes)
                        )
                        / m.rows,
                        6,
                    )
                    for arch in ARCHES
                },
            }
            for m in measured
        ],
    }
    if batch is not None:
        batch_memory = memory_mb(template, "BatchPredictFunction")
        rows, job_ms = batch_rows(prices, batch.data, batch_memory)
        tables.append(
            Table(
                f"S3 batch job: USD per 1 million rows (BatchPredictFunction, {batch_memory} MB)",
                [
                    "job",
                    "billed ms per file",
                    "Lambda x86_64",
                    "Lambda arm64",
                    f"SageMaker Serverless {sagemaker_memory_mb(prices, batch_memory)} MB",
                    "always-on container, 100% busy",
                ],
                rows,
            )
        )
        data["batch"] = {"memory_mb": batch_memory, "billed_ms_per_file": job_ms}
    else:
        notes.append("S3 batch job: run with the batch_job section to price it.")
    month = {a: container_per_month(prices, a) for a in ARCHES}
    one_row = next(m for m in measured if (m.protocol, m.rows) == ("simple", 1))
    lam_one = lambda_per_million(prices, "x86_64", one_row.billed_ms, memory)
    lam_one += http_api_per_million(prices, one_row.request_bytes)
    notes += [
        f"Prices: {prices['region']}, as of {prices['as_of']} (bench/prices.json, with sources).",
        "Billed ms: each measured call rounded up to 1 ms, as Lambda bills, then averaged; "
        "the durations are our handler in-process (event in, response out).",
        f"SageMaker Serverless: the same durations at {sm_memory} MB (its next size above "
        f"{memory} MB), plus data processed in and out; its container adds its own overhead.",
        f"Always-on container: {prices['always_on_container']['what']}: "
        f"${month['x86_64']:.2f}/month (arm64 ${month['arm64']:.2f}) whether busy or idle; "
        "the column assumes it is busy 100% of the month at our p50 latency, its best case.",
        f"Break-even, seed-style single row: the container is cheaper above "
        f"{break_even_per_month(month['x86_64'], lam_one) / 1e6:.1f} million requests a month "
        f"(~{break_even_per_month(month['x86_64'], lam_one) / (730 * 3600):.1f} req/s on average).",
        "Not included: data transfer out, CloudWatch logs and metrics, S3 requests of the batch "
        "job, a load balancer in front of the container, free tiers.",
    ]
    return Section("cost", "6. Cost", tables=tables, notes=notes, data=data)
