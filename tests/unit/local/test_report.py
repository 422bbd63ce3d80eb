"""REPORT lines as Lambda writes them, and billed duration as Lambda bills it."""

from __future__ import annotations

from pathlib import Path

from lambdaserve.local.report import Invocation
from lambdaserve.local.template import Function

FN = Function("Fn", "app.handler", "python3.12", Path("/code"), memory=512)


def fields(invocation: Invocation) -> dict[str, str]:
    head, *rest = invocation.report().split("\t")
    assert head == f"REPORT RequestId: {invocation.request_id}"
    return dict(part.split(": ", 1) for part in rest)


def test_warm_invocation() -> None:
    warm = Invocation(FN, "r1", True, b"{}", duration_ms=12.0001, max_memory_mb=80)
    assert fields(warm) == {
        "Duration": "12.00 ms",
        "Billed Duration": "13 ms",  # rounded up to the next millisecond
        "Memory Size": "512 MB",
        "Max Memory Used": "80 MB",
    }


def test_cold_start_bills_the_init_phase() -> None:
    cold = Invocation(FN, "r2", True, b"{}", duration_ms=2.5, init_ms=300.2, max_memory_mb=90)
    report = fields(cold)
    assert list(report)[-1] == "Init Duration"  # last, as in CloudWatch
    assert report["Init Duration"] == "300.20 ms"
    assert report["Billed Duration"] == "303 ms" and cold.billed_ms == 303


def test_failed_environments_say_why() -> None:
    timed_out = Invocation(FN, "r3", False, b"{}", 3000.0, status="timeout")
    assert fields(timed_out)["Status"] == "timeout"
    crashed = Invocation(
        FN,
        "r4",
        False,
        b'{"errorType": "Runtime.ExitError"}',
        1.0,
        None,
        None,
        "error",
        "Runtime.ExitError",
    )
    assert fields(crashed)["Error Type"] == "Runtime.ExitError"
    assert crashed.error == {"errorType": "Runtime.ExitError"}
    assert Invocation(FN, "r5", True, b"{}", 0.0).billed_ms == 1  # never below 1 ms
