"""The load test of `make load` at CI size: mixed, partly malformed traffic from 16 clients
against `serve` (IAM on): no errors, each malformed request its 4xx, memory flat."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import load

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess


def test_the_plan_mixes_protocols_and_malformed_requests_in_the_share_asked() -> None:
    calls = load.plan(1000, 0.1)
    malformed = [c for c in calls if c.expect != 200]
    assert len(calls) == 1000 and len(malformed) == 100
    assert {c.kind for c in calls if c.expect == 200} >= {"simple", "tfserving", "v2", "health"}
    assert all(400 <= c.expect < 500 for c in malformed)
    assert {c.signing for c in malformed} == {"ok", "none", "bad"}


def test_mixed_load_with_malformed_requests(tmp_path: Path) -> None:
    report = load.run(400, 16, 0.1, tmp_path / "serve.log")
    assert len(report.outcomes) == 400 and len(report.malformed) == 40
    assert report.errors == [], report.markdown()
    assert all(o.status == 200 for o in report.valid)
    assert all(o.status == o.call.expect for o in report.malformed)
    assert "serve (gateway, Lambda API)" in report.memory
    assert any(name.startswith("IrisFunction") for name in report.memory)
    assert report.memory_flat, report.markdown()
