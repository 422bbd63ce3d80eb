"""The result of one invocation and its CloudWatch-style REPORT line.

Lambda's format: `REPORT RequestId: <id>\tDuration: 12.34 ms\tBilled Duration: 13 ms\t
Memory Size: 128 MB\tMax Memory Used: 40 MB\tInit Duration: 250.01 ms`, Init Duration on
cold starts only, and `Status: timeout` or `Status: error` with `Error Type` when the
environment failed. Billed Duration is rounded up to the next 1 ms and, since August 2025,
includes the init phase on cold starts of on-demand functions (cost reports rely on it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from lambdaserve.local.template import Function


@dataclass(frozen=True)
class Invocation:
    function: Function
    request_id: str
    ok: bool
    payload: bytes
    duration_ms: float
    init_ms: float | None = None
    max_memory_mb: int | None = None
    status: str | None = None  # "timeout" or "error" when the environment failed
    error_type: str | None = None

    @property
    def error(self) -> dict[str, object] | None:
        if self.ok:
            return None
        data: dict[str, object] = json.loads(self.payload)
        return data

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms + (self.init_ms or 0.0)))

    def report(self) -> str:
        parts = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_ms} ms",
            f"Memory Size: {self.function.memory} MB",
        ]
        if self.max_memory_mb is not None:
            parts.append(f"Max Memory Used: {self.max_memory_mb} MB")
        if self.init_ms is not None:
            parts.append(f"Init Duration: {self.init_ms:.2f} ms")
        if self.status:
            parts.append(f"Status: {self.status}")
        if self.error_type:
            parts.append(f"Error Type: {self.error_type}")
        return "\t".join(parts)
