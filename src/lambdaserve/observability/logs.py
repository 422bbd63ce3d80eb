"""Function logs through Powertools for AWS Lambda's Logger (JSON lines, Lambda's keys).

`setup` gives the `lambdaserve` logger (and so every `lambdaserve.*` module logger) the
Powertools JSON handler, so errors, feedback, store failures and batch job logs come out
as structured JSON with `service`, `level`, `location` and `timestamp`, beside the
per-request records the metrics stage writes in the same shape. Called by the function
entry points at init; imported there only (Powertools costs ~15 ms of cold start).
"""

from __future__ import annotations

from typing import Any

SERVICE = "lambdaserve"


def setup(**keys: str) -> Any:
    """Route the `lambdaserve` loggers through a Powertools Logger; `keys` go on every line."""
    from aws_lambda_powertools import Logger

    logger = Logger(service=SERVICE, utc=True, use_rfc3339=True)
    if keys:
        logger.append_keys(**keys)
    return logger
