"""Where observability records go: one JSON object per line on standard output.

In Lambda, standard output is the function's CloudWatch Logs stream: EMF lines become
metrics there, capture lines are shipped to S3 by the log group's subscription filter, and
both stay searchable with Logs Insights. Writing a line is the only cost on the request
path: no network call, no buffering that a frozen container could lose.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

LineWriter = Callable[[str], None]


def write_stdout(line: str) -> None:
    """One line on the current sys.stdout (looked up per call: tests and runtimes swap it)."""
    sys.stdout.write(line + "\n")
