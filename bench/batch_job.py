"""The S3 batch job against the seed's BatchPredictor, on a 200,000 x 30 CSV.

The measurement itself lives with the batch job (scripts/batch_bench.py, owned by the
batch engineer): each side runs in its own subprocess so peak RSS is its own; our job
reads and writes a moto S3 server over real HTTP, the seed reads and writes local files.
"""

from __future__ import annotations

from typing import Any

from bench.budget import Budget
from bench.report import Section, Table, Target


def run(budget: Budget) -> Section:
    import bench.fixtures  # noqa: F401  (puts scripts/ on sys.path, also for --only batch_job)

    try:
        import batch_bench  # scripts/, on sys.path via bench.fixtures
    except ImportError as exc:
        return Section("batch_job", "4. S3 batch job", skipped=f"scripts/batch_bench.py: {exc}")
    repeats = 1 if budget.quick else 3
    return section(batch_bench.run(rows=budget.job_rows, repeats=repeats))


def section(result: dict[str, Any]) -> Section:
    seed, ours = result["seed"], result["lambdaserve"]
    ours_rate = ours["rows_per_second_median"]
    rows = [
        [
            "lambdaserve S3 job (moto S3 over HTTP, streaming)",
            ours_rate,
            ours["median_seconds"],
            ours["peak_rss_mb"],
            ours["peak_rss_mb"] - ours["baseline_rss_mb"],
        ],
        [
            "seed BatchPredictor (pandas chunks, sklearn pickle, local files)",
            seed["rows_per_second"],
            seed["seconds"],
            seed["peak_rss_mb"],
            seed["peak_rss_mb"] - seed["baseline_rss_mb"],
        ],
    ]
    return Section(
        "batch_job",
        f"4. S3 batch job ({result['rows']:,} x {result['features']} CSV)",
        targets=[
            Target(
                "batch_job_vs_seed",
                f"S3 batch job rows/s ({result['rows']:,} x {result['features']} CSV) vs seed",
                ours_rate,
                "seed BatchPredictor",
                seed["rows_per_second"],
                "rows/s",
                ours_rate / seed["rows_per_second"],
                ">=",
                12,
                "speed-up",
            )
        ],
        tables=[
            Table(
                "Median of our runs; peak RSS of each subprocess (MB)",
                ["subject", "rows/s", "seconds", "peak RSS MB", "RSS growth MB"],
                rows,
            )
        ],
        notes=[
            f"Input {result['input_bytes'] / 1e6:.1f} MB; model {result['model']}; "
            f"ORT intra-op threads {ours['intra_op_threads']}; {result['cpus']} CPUs.",
            "Measured by scripts/batch_bench.py (times cover the work, not imports or model "
            "loading).",
            *_floor_note(result),
            f"Our peak RSS and growth include the CSV parser process "
            f"({ours.get('parser_process_rss_mb', 0):.0f} MB peak), started at init like the "
            "Lambda function does; 0 when LAMBDASERVE_BATCH_PARSE_PROCESS=0.",
        ],
        data=result,
    )


def _floor_note(result: dict[str, Any]) -> list[str]:
    floor = result.get("floor")
    if not floor:
        return []
    return [
        f"Floor (parse {floor['parse_cpu_seconds']:.2f} + ORT {floor['ort_cpu_seconds']:.2f} "
        f"CPU s over {result['cpus']} vCPUs) {floor['seconds']:.2f} s: the job takes "
        f"{floor['job_median_vs_floor']:.2f}x the floor."
    ]
