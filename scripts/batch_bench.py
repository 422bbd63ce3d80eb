"""Batch prediction benchmark: lambdaserve's S3 job vs the seed's pandas BatchPredictor.

Same data, same model, one run: a CSV of `rows` x 30 features in the breast_cancer
feature space (rows sampled from the real dataset with 5% multiplicative noise, plus an
`id` column), scored by the random forest (breast_cancer version 2; the seed gets the
scikit-learn forest from `train_models.py`'s recipe, we get its ONNX twin).

Each measurement runs in a fresh subprocess so its peak RSS is its own: the seed reads
and writes local files; the lambdaserve job reads from and writes to a moto S3 server
running in this (parent) process, over real HTTP. Our job's CSV parser process is
started before the clock, as the Lambda function's init does; its peak RSS and CPU
seconds are added to the job's. Times cover the work only (not
imports, model loading or the upload of the input). The floor is the CPU time of
parsing plus ORT alone on the same blocks, divided by the vCPUs: the job's wall time
against it shows what the pipeline around them (S3, formatting, threads) costs.

    python scripts/batch_bench.py [--rows 200000] [--repeats 3] [--json out.json]

The bench harness imports `run()`.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "incoming/breast_cancer/v2/bench.csv"
BUCKET = "lambdaserve-bench"


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """Rows around the real breast_cancer data, with an `id` passthrough column."""
    import numpy as np
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rng = np.random.default_rng(seed)
    picked = data.data[rng.integers(0, len(data.data), rows)]
    noisy = picked * (1 + rng.normal(0, 0.05, picked.shape))
    frame = pd.DataFrame(noisy, columns=[str(n) for n in data.feature_names])
    frame.insert(0, "id", np.arange(rows))
    frame.to_csv(path, index=False, float_format="%.6g")


def train_seed_model(path: Path) -> None:
    import joblib

    sys.path.insert(0, str(ROOT / "scripts"))
    from train_models import RECIPES, train

    recipe = next(r for r in RECIPES if r.name == "breast_cancer" and r.version == "2")
    joblib.dump(train(recipe).estimator, path)


# ---------------------------------------------------------------- subprocess workers
def _rss_mb(pid: int | str = "self", field: str = "VmHWM") -> float:
    """Peak RSS of a process (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_seed(model: str, source: str, target: str) -> dict[str, Any]:
    """The seed's BatchPredictor, verbatim (ml-model-serving.md, "Batch Prediction")."""
    import joblib
    import pandas as pd

    class BatchPredictor:
        def __init__(self, model_path: str, batch_size: int = 1000) -> None:
            self.model = joblib.load(model_path)
            self.batch_size = batch_size

        def predict_csv(self, input_path: str, output_path: str) -> None:
            chunks = pd.read_csv(input_path, chunksize=self.batch_size)
            results = []
            for chunk in chunks:
                X = chunk.drop("id", axis=1).values
                predictions = self.model.predict(X)
                chunk["prediction"] = predictions
                results.append(chunk)
            pd.concat(results).to_csv(output_path, index=False)

    predictor = BatchPredictor(model, batch_size=1000)
    baseline = _rss_mb()
    cpu, start = time.process_time(), time.perf_counter()
    predictor.predict_csv(source, target)
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_rss_mb": _rss_mb(),
        "baseline_rss_mb": baseline,
    }


def _worker_job(endpoint: str, etag: str) -> dict[str, Any]:
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    import boto3

    from lambdaserve.batch.config import BatchConfig, session_threads
    from lambdaserve.batch.job import BatchJob
    from lambdaserve.batch.parse_worker import shared_parser
    from lambdaserve.batch.source import InputRef
    from lambdaserve.dataplane import create_dataplane
    from lambdaserve.model import SessionConfig
    from lambdaserve.settings import Settings

    settings = Settings.from_env()
    config = BatchConfig.from_settings(settings)
    # As functions/batch_predict/app.py does at init: the parser process lives with the
    # container, so a job (warm or the first one) finds it running.
    parser = shared_parser() if config.parse_process else None
    if parser is not None and not parser.ready():
        raise RuntimeError(f"the parser process did not start: {parser.failure}")
    threads = session_threads(settings)
    plane = create_dataplane(settings, config=SessionConfig(intra_op_threads=threads))
    plane.model("breast_cancer", "2")  # loaded at init, as the function loads it
    s3 = boto3.client("s3")
    s3.delete_object(Bucket=BUCKET, Key="results/" + KEY[len("incoming/") :] + ".summary.json")
    job = BatchJob(s3, plane, config)
    gc.freeze()  # as the function's init ends
    # Baseline: this process's peak so far plus the parser process's current RSS.
    baseline = _rss_mb() + (_rss_mb(parser.pid, "VmRSS") if parser is not None else 0.0)
    child_cpu = _cpu_seconds(parser.pid) if parser is not None else 0.0
    cpu, start = time.process_time(), time.perf_counter()
    summary = job.run(InputRef(BUCKET, KEY, etag))
    seconds = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if summary.status != "succeeded":
        raise RuntimeError(f"batch job {summary.status}: {summary.error}")
    # The parser process's memory and CPU belong to the job: count them in.
    child_rss = _rss_mb(parser.pid) if parser is not None else 0.0
    child_cpu = _cpu_seconds(parser.pid) - child_cpu if parser is not None else 0.0
    return {
        "seconds": seconds,
        "peak_rss_mb": _rss_mb() + child_rss,
        "parser_process_rss_mb": child_rss,
        "parser_process_alive": parser is not None and parser.alive,
        "baseline_rss_mb": baseline,
        "cpu_seconds": cpu + child_cpu,
        "parser_process_cpu_seconds": child_cpu,
        "rows_predicted": summary.rows.predicted,
        "intra_op_threads": threads,
    }


def _worker_floor(source: str) -> dict[str, Any]:
    """The least CPU the job's work takes: parse (as the parser process does) and ORT on
    the same blocks, one after the other, nothing else (no S3, no formatting)."""
    from lambdaserve.batch.config import BatchConfig, session_threads
    from lambdaserve.batch.csv_header import read_header
    from lambdaserve.batch.csv_reader import CsvReader
    from lambdaserve.batch.stream import lines_blocks
    from lambdaserve.dataplane import DataPlane
    from lambdaserve.model import SessionConfig
    from lambdaserve.repository import ModelRepository
    from lambdaserve.settings import Settings

    settings = Settings.from_env()
    config = BatchConfig.from_settings(settings)
    plane = DataPlane(
        ModelRepository(settings.model_repository),
        SessionConfig(intra_op_threads=session_threads(settings)),
    )
    model = plane.model("breast_cancer", "2")
    header, _, rest = Path(source).read_bytes().partition(b"\n")
    reader = CsvReader(read_header(header, model.manifest.feature_names), whole_blocks=True)
    blocks = list(
        lines_blocks([rest], config.block_bytes, True, config.max_block_bytes, first_line=2)
    )
    reader.parse(blocks[0])  # first-use costs, as the parser process warms up at init
    cpu = time.process_time()
    parsed = [reader.parse(block) for block in blocks]
    parse_cpu = time.process_time() - cpu
    name = model.manifest.inputs[0].name
    cpu = time.process_time()
    for block in parsed:
        model.predict({name: block.features})
    ort_cpu = time.process_time() - cpu
    return {"parse_cpu_seconds": parse_cpu, "ort_cpu_seconds": ort_cpu}


def _spawn(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------- the benchmark
def run(rows: int = 200_000, repeats: int = 3, workdir: Path | None = None) -> dict[str, Any]:
    """Seed once, lambdaserve `repeats` times (interleaved with nothing else); rows/s each."""
    import boto3
    from moto.server import ThreadedMotoServer

    for var, value in (
        ("AWS_ACCESS_KEY_ID", "bench"),
        ("AWS_SECRET_ACCESS_KEY", "bench"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(var, value)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        folder = Path(tmp)
        source, model = folder / "input.csv", folder / "rf.joblib"
        make_csv(source, rows)
        train_seed_model(model)
        port = _free_port()
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        server.start()
        try:
            endpoint = f"http://127.0.0.1:{port}"
            s3 = boto3.client("s3", endpoint_url=endpoint)
            s3.create_bucket(Bucket=BUCKET)
            s3.upload_file(str(source), BUCKET, KEY)
            etag = s3.head_object(Bucket=BUCKET, Key=KEY)["ETag"].strip('"')
            seed = _spawn("seed", str(model), str(source), str(folder / "seed_out.csv"))
            jobs = [_spawn("job", endpoint, etag) for _ in range(repeats)]
            floor = _spawn("floor", str(source))
        finally:
            server.stop()
        size = source.stat().st_size
    seconds = [j["seconds"] for j in jobs]
    best, median = min(seconds), statistics.median(seconds)
    cpus = len(os.sched_getaffinity(0))
    floor_seconds = (floor["parse_cpu_seconds"] + floor["ort_cpu_seconds"]) / cpus
    return {
        "rows": rows,
        "features": 30,
        "input_bytes": size,
        "model": "breast_cancer v2 (random forest)",
        "seed": {**seed, "rows_per_second": rows / seed["seconds"]},
        "lambdaserve": {
            "runs_seconds": seconds,
            "runs_cpu_seconds": [j["cpu_seconds"] for j in jobs],
            "best_seconds": best,
            "median_seconds": median,
            "rows_per_second_best": rows / best,
            "rows_per_second_median": rows / median,
            "peak_rss_mb": max(j["peak_rss_mb"] for j in jobs),
            "parser_process_rss_mb": max(j["parser_process_rss_mb"] for j in jobs),
            "parser_process_cpu_seconds": [j["parser_process_cpu_seconds"] for j in jobs],
            "baseline_rss_mb": min(j["baseline_rss_mb"] for j in jobs),
            "intra_op_threads": jobs[0]["intra_op_threads"],
        },
        "speedup_best": seed["seconds"] / best,
        "speedup_median": seed["seconds"] / median,
        # Parse + ORT CPU seconds spread over every vCPU: no job on this input is faster.
        "floor": {**floor, "seconds": floor_seconds, "job_median_vs_floor": median / floor_seconds},
        "cpus": cpus,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, *rest = args.worker
        workers = {"seed": _worker_seed, "job": _worker_job, "floor": _worker_floor}
        result = workers[kind](*rest)
        print(json.dumps(result))
        return
    report = run(args.rows, args.repeats)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
