"""The streaming bench section runs quickly end to end and reports both sides."""

from __future__ import annotations

import json
from pathlib import Path

from bench import __main__ as bench_main


def test_quick_run_of_the_stream_section(tmp_path: Path) -> None:
    assert bench_main.main(["--quick", "--only", "stream", "--out", str(tmp_path)]) == 0
    section = json.loads((tmp_path / "report.json").read_text())["sections"]["stream"]
    assert section["skipped"] is None
    assert [t["key"] for t in section["targets"]] == ["stream_messages_per_s"]
    for name in ("rest", "stream", "stream_sqs", "sqs_send"):
        assert section["data"][name]["messages_per_s"] > 0
