"""Run the benchmarks and write bench/out/report.{json,md}: `python -m bench [--quick]`."""

from __future__ import annotations

import argparse
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from bench import report
from bench.budget import FULL, QUICK, Budget
from bench.report import Section

# Size first: its `sam build` also feeds the cold-start section's layer runs.
SECTIONS = (
    "size",
    "warm",
    "cache",
    "cold",
    "init",
    "batch_requests",
    "batch_job",
    "fanout",
    "stream",
    "cost",
)
MODULES = {"batch_requests": "throughput", "init": "init_duration"}
# Sections that price what earlier sections of the same run measured.
USES_EARLIER = {"cost"}


def runner(name: str, earlier: list[Section]) -> Callable[[Budget], Section]:
    module = __import__(f"bench.{MODULES.get(name, name)}", fromlist=["run"])
    if name in USES_EARLIER:
        return lambda budget: module.run(budget, earlier)  # type: ignore[no-any-return]
    run: Callable[[Budget], Section] = module.run
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke test)")
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument(
        "--publish", action="store_true", help="also copy report.md to bench/RESULTS.md"
    )
    args = parser.parse_args(argv)
    budget = QUICK if args.quick else FULL
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {SECTIONS}")
    start = time.perf_counter()
    sections: list[Section] = []
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            sections.append(runner(name, sections)(budget))
        except Exception as exc:  # one broken section must not hide the others' figures
            traceback.print_exc()
            sections.append(Section(name, name, skipped=f"failed: {exc!r}"))
        print(f"[bench] {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    doc = report.build(sections, time.perf_counter() - start)
    json_path, md_path = report.write(doc, sections, args.out)
    print(md_path.read_text())
    print(f"[bench] wrote {json_path} and {md_path}", file=sys.stderr)
    if args.publish:
        shutil.copyfile(md_path, Path(__file__).parent / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
