"""Bounded load test on loopback against `lambdaserve serve` (`make load`; README figures).

`serve` runs as a user runs it (a subprocess, the template's IAM auth on, dummy credentials
from its banner); N requests, a mix of every protocol, health and listing routes, go out
from C concurrent keep-alive clients (asyncio + httpx), a share of them malformed in the
ways callers get wrong (bad JSON, wrong widths, strings, text/plain, unknown models, deep
JSON, too many rows, unsigned or badly signed). Every valid request must answer 200 and
every malformed one its documented 4xx; anything else is an error. The RSS of `serve` and
of each function process is sampled throughout: memory is flat when the last quarter's
peak stays within `FLAT_MB` of the first quarter's.

    python -m bench.load [--requests 10000] [--clients 16] [--malformed 0.1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lambdaserve.local.auth import sigv4

ROOT = Path(__file__).resolve().parent.parent
REGION = "us-east-1"
FLAT_MB = 32.0  # allowed growth of a process's RSS peak from the first to the last quarter
WIDTHS = {"iris": 4, "diabetes": 10}


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    path: str
    body: bytes | None
    expect: int  # the status a correct server answers
    content_type: str | None = "application/json"
    signing: str = "ok"  # ok | none | bad


def _row(rng: random.Random, width: int) -> list[float]:
    return [round(rng.uniform(0.1, 7.9), 3) for _ in range(width)]


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def valid_call(rng: random.Random) -> Call:
    model = rng.choice(("iris", "iris", "diabetes"))
    width = WIDTHS[model]
    rows = [_row(rng, width) for _ in range(rng.randint(1, 4))]
    v2 = {"inputs": [{"name": "input", "shape": [len(rows), width], "datatype": "FP32"}]}
    v2["inputs"][0]["data"] = [v for row in rows for v in row]
    choices = [
        Call("simple", "POST", f"/models/{model}/predict", _json({"features": rows[0]}), 200),
        Call("simple", "POST", f"/models/{model}/predict", _json({"instances": rows}), 200),
        Call("tfserving", "POST", f"/v1/models/{model}:predict", _json({"instances": rows}), 200),
        Call(
            "tfserving",
            "POST",
            f"/v1/models/{model}/versions/1:predict",
            _json({"inputs": rows}),
            200,
        ),
        Call("v2", "POST", f"/v2/models/{model}/infer", _json(v2), 200),
        Call("health", "GET", "/health", None, 200, None),
        Call("metadata", "GET", f"/models/{model}", None, 200, None),
    ]
    return rng.choice(choices)


def malformed_call(rng: random.Random) -> Call:
    row = _row(rng, 4)
    deep: Any = row
    for _ in range(40):
        deep = [deep]
    predict = "/models/iris/predict"
    choices = [
        Call("bad-json", "POST", predict, b'{"features": [1, 2,', 400),
        Call("wrong-width", "POST", predict, _json({"features": row[:3]}), 400),
        Call("strings", "POST", "/v1/models/iris:predict", _json({"instances": [["a"] * 4]}), 400),
        Call("text-plain", "POST", predict, _json({"features": row}), 415, "text/plain"),
        Call("unknown-model", "POST", "/models/nope/predict", _json({"features": row}), 404),
        Call("too-deep", "POST", predict, _json({"instances": deep}), 400),
        Call("too-many-rows", "POST", predict, _json({"instances": [row] * 10_001}), 413),
        Call(
            "bad-shape",
            "POST",
            "/v2/models/iris/infer",
            _json({"inputs": [{"name": "input"}]}),
            400,
        ),
        Call("unsigned", "POST", predict, _json({"features": row}), 403, signing="none"),
        Call("bad-signature", "GET", "/health", None, 403, None, signing="bad"),
    ]
    return rng.choice(choices)


def plan(requests: int, malformed: float, seed: int = 7) -> list[Call]:
    rng = random.Random(seed)
    bad = round(requests * malformed)
    calls = [malformed_call(rng) for _ in range(bad)]
    calls += [valid_call(rng) for _ in range(requests - bad)]
    rng.shuffle(calls)
    return calls


# ------------------------------------------------------------------ serve and its memory
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Serve:
    process: subprocess.Popen[str]
    url: str
    banner: list[str]

    def credentials(self) -> sigv4.AccessKey:
        import shlex

        for line in self.banner:
            words = shlex.split(line) if "--aws-sigv4" in line else []
            if "--user" in words:
                key, _, secret = words[words.index("--user") + 1].partition(":")
                return sigv4.AccessKey(key, secret)
        raise RuntimeError(f"serve printed no signed example: {self.banner}")


def start_serve(log: Path, instances: int) -> Serve:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {"AWS_SHARED_CREDENTIALS_FILE": os.devnull, "AWS_CONFIG_FILE": os.devnull}
    args = ["serve", "--port", str(port), "--lambda-port", str(_free_port()), "--no-s3"]
    args += ["--stores-port", "0", "--sqs-port", "0"]
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdaserve.cli", *args, "--instances", str(instances)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert process.stdout is not None
    banner: list[str] = []
    for line in process.stdout:
        banner.append(line.rstrip("\n"))
        if line.startswith("Ctrl-C"):
            break
    if process.poll() is not None:
        raise RuntimeError(f"serve did not start: {log.read_text()[-2000:]}")
    return Serve(process, f"http://127.0.0.1:{port}", banner)


def _tree(pid: int) -> dict[int, str]:
    """pid and its descendants -> a name (serve, or the function an environment runs)."""
    parents: dict[int, int] = {}
    names: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        function = next((v for v in environ if v.startswith(b"AWS_LAMBDA_FUNCTION_NAME=")), b"")
        names[int(entry.name)] = function.partition(b"=")[2].decode() or "?"
    found = {pid: "serve"}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found[child] = names.get(child, "?")
                changed = True
    return found


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Memory:
    """RSS samples per process: (seconds since start, MB)."""

    samples: dict[int, list[tuple[float, float]]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def sample(self, root: int, at: float) -> None:
        for pid, name in _tree(root).items():
            rss = _rss_mb(pid)
            if rss is not None:
                self.names.setdefault(pid, name)
                self.samples.setdefault(pid, []).append((at, rss))

    def growth(self, duration: float) -> dict[int, tuple[float, float]]:
        """Per process: peak RSS in the first and in the last quarter of the run."""
        result = {}
        for pid, points in self.samples.items():
            first = [mb for t, mb in points if t <= duration / 4]
            last = [mb for t, mb in points if t >= duration * 3 / 4]
            if first and last:
                result[pid] = (max(first), max(last))
        return result


def watch(root: int, memory: Memory, stop: threading.Event, started: float) -> None:
    while not stop.wait(0.25):
        memory.sample(root, time.perf_counter() - started)


# ------------------------------------------------------------------ the clients
@dataclass
class Outcome:
    call: Call
    status: int | None  # None: the connection failed
    ms: float


async def _send(client: httpx.AsyncClient, call: Call, key: sigv4.AccessKey, url: str) -> Outcome:
    body = call.body or b""
    headers = {"content-type": call.content_type} if call.content_type else {}
    host = url.removeprefix("http://")
    if call.signing != "none":
        secret = key.secret_key if call.signing == "ok" else key.secret_key + "x"
        signer = sigv4.AccessKey(key.access_key, secret)
        signed = sigv4.sign(
            call.method, url + call.path, [("host", host), *headers.items()], body, signer, REGION
        )
        headers = {k: v for k, v in signed.items() if k.lower() != "host"}
    started = time.perf_counter()
    try:
        response = await client.request(
            call.method, call.path, content=body or None, headers=headers
        )
        status: int | None = response.status_code
    except httpx.HTTPError:
        status = None
    return Outcome(call, status, (time.perf_counter() - started) * 1000)


async def drive(url: str, key: sigv4.AccessKey, calls: list[Call], clients: int) -> list[Outcome]:
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for call in calls:
        queue.put_nowait(call)
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def worker() -> None:
            while not queue.empty():
                outcomes.append(await _send(client, queue.get_nowait(), key, url))

        await asyncio.gather(*(worker() for _ in range(clients)))
    return outcomes


# ------------------------------------------------------------------ the run and its report
@dataclass
class Report:
    requests: int
    clients: int
    seconds: float
    outcomes: list[Outcome]
    memory: dict[str, tuple[float, float]]  # process -> (first-quarter peak, last-quarter peak)

    @property
    def valid(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.call.expect == 200]

    @property
    def malformed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.call.expect != 200]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status != o.call.expect]

    @property
    def memory_flat(self) -> bool:
        return all(last - first <= FLAT_MB for first, last in self.memory.values())

    def markdown(self) -> str:
        ms = sorted(o.ms for o in self.valid)
        p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))] if ms else 0.0  # noqa: E731
        statuses = Counter((o.call.kind, o.status) for o in self.malformed)
        lines = [
            f"{self.requests:,} requests from {self.clients} concurrent clients in "
            f"{self.seconds:.1f} s ({self.requests / self.seconds:,.0f} req/s), "
            f"{len(self.malformed):,} malformed",
            "",
            "| | count | result |",
            "|---|---|---|",
            f"| valid (200 expected) | {len(self.valid):,} | "
            f"{sum(o.status == 200 for o in self.valid):,} answered 200; p50 {p(0.5):.1f} ms, "
            f"p99 {p(0.99):.1f} ms |",
            f"| malformed (4xx expected) | {len(self.malformed):,} | "
            f"{sum(o.status == o.call.expect for o in self.malformed):,} got their 4xx |",
            f"| errors (anything else) | {len(self.errors)} | "
            f"{', '.join(f'{o.call.kind}: {o.status}' for o in self.errors[:5]) or 'none'} |",
            "",
            "| malformed kind | status | count |",
            "|---|---|---|",
            *(
                f"| {kind} | {status} | {n} |"
                for (kind, status), n in sorted(statuses.items(), key=str)
            ),
            "",
            f"Memory (flat: each process's growth <= {FLAT_MB:.0f} MB):",
            "",
            "| process | RSS peak, first quarter (MB) | last quarter (MB) | growth |",
            "|---|---|---|---|",
            *(
                f"| {name} | {first:.0f} | {last:.0f} | {last - first:+.1f} |"
                for name, (first, last) in sorted(self.memory.items())
            ),
        ]
        return "\n".join(lines)


def _process_name(command: str) -> str:
    return "serve (gateway, Lambda API)" if command == "serve" else f"{command} environment"


def run(
    requests: int,
    clients: int,
    malformed: float,
    log: Path,
    instances: int = 2,
    warm: Callable[[], None] | None = None,
) -> Report:
    serve = start_serve(log, instances)
    try:
        key = serve.credentials()
        # Every function cold-starts before the clock runs (one of each valid kind).
        asyncio.run(drive(serve.url, key, plan(64, 0.0, seed=1), clients))
        calls = plan(requests, malformed)
        memory = Memory()
        stop = threading.Event()
        started = time.perf_counter()
        memory.sample(serve.process.pid, 0.0)
        watcher = threading.Thread(target=watch, args=(serve.process.pid, memory, stop, started))
        watcher.start()
        outcomes = asyncio.run(drive(serve.url, key, calls, clients))
        seconds = time.perf_counter() - started
        stop.set()
        watcher.join()
        memory.sample(serve.process.pid, seconds)
        growth = memory.growth(seconds)
        named: dict[str, tuple[float, float]] = {}
        for pid, values in growth.items():
            name = _process_name(memory.names[pid])
            named[f"{name} [{pid}]" if name in {n.split(" [")[0] for n in named} else name] = values
        return Report(requests, clients, seconds, outcomes, named)
    finally:
        serve.process.send_signal(signal.SIGINT)
        try:
            serve.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serve.process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--malformed", type=float, default=0.1, help="share of malformed requests")
    parser.add_argument("--instances", type=int, default=2, help="environments per function")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "load.md"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = run(
        args.requests, args.clients, args.malformed, out.with_suffix(".log"), args.instances
    )
    text = report.markdown()
    out.write_text(text + "\n")
    print(text)
    print(f"\n[load] wrote {out}; serve's log: {out.with_suffix('.log')}")
    return 0 if not report.errors and report.memory_flat else 1


if __name__ == "__main__":
    sys.exit(main())
