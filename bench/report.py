"""Targets, tables and the two report files (JSON for machines, Markdown for the README)."""

from __future__ import annotations

import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b}


@dataclass(frozen=True)
class Target:
    """One issue target: our figure, the baseline's, their ratio, and the bar it must clear."""

    key: str
    title: str
    figure: float
    baseline_name: str
    baseline: float
    unit: str
    ratio: float  # in the sense of the goal, e.g. ours / floor for "<= 1.6"
    op: str  # "<=" or ">="
    limit: float
    ratio_label: str = "ratio"

    @property
    def passed(self) -> bool:
        return bool(OPS[self.op](self.ratio, self.limit))

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


@dataclass(frozen=True)
class Table:
    title: str
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class Section:
    name: str
    title: str
    targets: list[Target] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "skipped": self.skipped,
            "targets": [t.to_json() for t in self.targets],
            "tables": [asdict(t) for t in self.tables],
            "notes": self.notes,
            "data": self.data,
        }


def machine() -> dict[str, Any]:
    import numpy
    import onnxruntime

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "onnxruntime": onnxruntime.__version__,
        "numpy": numpy.__version__,
        "argv": sys.argv[1:],
    }


def build(sections: list[Section], elapsed_s: float) -> dict[str, Any]:
    targets = [t for s in sections for t in s.targets]
    return {
        "generated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "elapsed_s": round(elapsed_s, 1),
        "machine": machine(),
        "summary": {
            "targets": len(targets),
            "passed": sum(t.passed for t in targets),
            "failed": [t.key for t in targets if not t.passed],
        },
        "sections": {s.name: s.to_json() for s in sections},
    }


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value == 0 or abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return lines


def markdown(report: dict[str, Any], sections: list[Section]) -> str:
    m = report["machine"]
    s = report["summary"]
    out = [
        "# lambdaserve benchmark report",
        "",
        f"Generated {report['generated']} by `make bench` ({report['elapsed_s']} s). "
        f"Machine: {m['cpus']} x {m['cpu']}, Python {m['python']}, "
        f"onnxruntime {m['onnxruntime']}, numpy {m['numpy']}.",
        "",
        f"**{s['passed']} of {s['targets']} targets met.**",
        "",
        "## Targets",
        "",
    ]
    rows = [
        [
            t.title,
            f"{_fmt(t.figure)} {t.unit}",
            f"{t.baseline_name}: {_fmt(t.baseline)} {t.unit}",
            f"{t.ratio_label} {t.ratio:.3g}",
            f"{t.op} {t.limit:g}",
            "PASS" if t.passed else "FAIL",
        ]
        for sec in sections
        for t in sec.targets
    ]
    out += _table(["target", "lambdaserve", "baseline", "ratio", "goal", "result"], rows)
    for sec in sections:
        out += ["", f"## {sec.title}", ""]
        if sec.skipped:
            out += [f"Skipped: {sec.skipped}"]
            continue
        for table in sec.tables:
            out += [f"**{table.title}**", "", *_table(table.columns, table.rows), ""]
        out += [f"- {note}" for note in sec.notes]
    return "\n".join(out).rstrip() + "\n"


def write(report: dict[str, Any], sections: list[Section], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "report.json", out / "report.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    md_path.write_text(markdown(report, sections))
    return json_path, md_path
