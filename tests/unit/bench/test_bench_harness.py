"""Smoke tests of `python -m bench`: tiny iteration counts, so the harness cannot rot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import cold, report, size, stats
from bench.report import Section, Table, Target


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert stats.percentile(values, 50) == 50.0
    assert stats.percentile(values, 99) == 99.0
    assert stats.percentile(values, 100) == 100.0
    assert stats.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        stats.percentile([], 50)


def test_interleaved_times_every_subject_n_times() -> None:
    calls = {"a": 0, "b": 0}

    def bump(key: str) -> None:
        calls[key] += 1

    result = stats.interleaved({"a": lambda: bump("a"), "b": lambda: bump("b")}, 7, block=3)
    assert calls == {"a": 7, "b": 7}
    assert result["a"].n == 7
    assert 0 < result["a"].p50_us <= result["a"].p99_us


def test_target_pass_fail_follows_the_operator() -> None:
    low = Target("k", "t", 1.0, "base", 2.0, "ms", 0.5, "<=", 0.35)
    high = Target("k", "t", 1.0, "base", 2.0, "ms", 60.0, ">=", 50)
    assert not low.passed
    assert high.passed
    assert low.to_json()["passed"] is False


def test_markdown_lists_targets_and_skipped_sections(tmp_path: Path) -> None:
    sections = [
        Section(
            "x",
            "X section",
            targets=[Target("k", "Thing vs base", 3.0, "base", 6.0, "ms", 0.5, "<=", 0.6)],
            tables=[Table("numbers", ["a", "b"], [[1, 2.5]])],
            notes=["a note"],
        ),
        Section("y", "Y section", skipped="not today"),
    ]
    doc = report.build(sections, 1.0)
    json_path, md_path = report.write(doc, sections, tmp_path)
    text = md_path.read_text()
    assert "| Thing vs base | 3.00 ms | base: 6.00 ms | ratio 0.5 | <= 0.6 | PASS |" in text
    assert "Skipped: not today" in text
    assert "**1 of 1 targets met.**" in text
    assert json.loads(json_path.read_text())["summary"]["failed"] == []


def test_size_section_targets_the_largest_function() -> None:
    sizes = {
        "A": {"A": 0.1, "RuntimeLayer": 130.0, "total": 130.1},
        "B": {"B": 90.0, "RuntimeLayer": 130.0, "total": 220.0},
    }
    section = size.section(sizes, [("onnxruntime", 70.0)])
    (target,) = section.targets
    assert target.figure == 220.0
    assert not target.passed


def test_import_breakdown_parses_importtime(monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1000 |       1000 |     numpy._core",
            "import time:       500 |       1500 |   numpy",
            "import time:      3000 |       4500 | app",
        ]
    )

    class Done:
        def __init__(self) -> None:
            self.stderr = stderr

    monkeypatch.setattr(cold.subprocess, "run", lambda *a, **k: Done())
    subject = cold.Subject("s", "s", ["python"], Path("."), "app", Path("e.json"), {})
    assert cold.import_breakdown(subject) == [("app", 3.0), ("numpy", 1.5)]


def test_quick_run_measures_warm_latency_and_batch_requests(tmp_path: Path) -> None:
    code = bench_main.main(
        ["--quick", "--only", "warm,cache,batch_requests", "--out", str(tmp_path)]
    )
    assert code == 0
    doc = json.loads((tmp_path / "report.json").read_text())
    warm = doc["sections"]["warm"]
    assert warm["skipped"] is None
    assert {t["key"] for t in warm["targets"]} == {"warm_p50_vs_floor", "warm_p50_vs_seed"}
    for name in ("floor", "raw_ort", "seed", "ours_simple", "ours_tfserving", "ours_v2"):
        assert warm["data"][name]["p50_us"] > 0
    cache = doc["sections"]["cache"]
    assert cache["skipped"] is None
    assert {t["key"] for t in cache["targets"]} == {"cache_hit_vs_miss", "cache_miss_overhead"}
    for name in ("hit", "miss_on", "miss_off"):
        assert cache["data"][name]["p50_us"] > 0
    batch = doc["sections"]["batch_requests"]
    assert batch["skipped"] is None
    assert batch["data"]["v2_binary"]["rows_per_s"] > 0
    assert "## Targets" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_quick_run_of_every_section(tmp_path: Path) -> None:
    assert bench_main.main(["--quick", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "report.json").read_text())
    for name in ("warm", "cold", "init", "batch_requests", "cost"):
        assert doc["sections"][name]["skipped"] is None, name
    assert doc["sections"]["size"]["skipped"].startswith("quick run")
