"""Function logs through Powertools for AWS Lambda's Logger (JSON lines, Lambda's keys).

`setup` gives the `lambdaserve` logger (and so every `lambdaserve.*` module logger) the
Powertools JSON handler, so errors, feedback, store failures and batch job logs come out
as structured JSON with `service`, `level`, `location` and `timestamp`, beside the
per-request records the metrics stage writes in the same shape.

Lazily: importing Powertools costs cold-start time (README, Observability) and a healthy
model function logs nothing but its per-request records, which do not go through a
logger. So `setup(lazy=True)` installs a placeholder handler that imports Powertools and
hands over on the first record; until something is logged, Powertools is never imported.
"""

from __future__ import annotations

import logging
import os
from typing import Any

SERVICE = "lambdaserve"


def _level() -> str:
    # Lambda's advanced logging controls set AWS_LAMBDA_LOG_LEVEL; Powertools reads the same.
    return (
        os.environ.get("POWERTOOLS_LOG_LEVEL") or os.environ.get("AWS_LAMBDA_LOG_LEVEL") or "INFO"
    )


def powertools_logger(**keys: str) -> Any:
    """Route the `lambdaserve` loggers through a Powertools Logger now; `keys` on every line."""
    from aws_lambda_powertools import Logger

    logger = Logger(service=SERVICE, level=_level(), utc=True, use_rfc3339=True)
    if keys:
        logger.append_keys(**keys)
    return logger


class _OnFirstRecord(logging.Handler):
    """Stands in for Powertools' handler until the first record, then installs it."""

    def __init__(self, keys: dict[str, str]) -> None:
        super().__init__()
        self._keys = keys
        self._target: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._target is None:
            logging.getLogger(SERVICE).removeHandler(self)
            self._target = powertools_logger(**self._keys).registered_handler
        assert self._target is not None
        if record.levelno >= self._target.level:
            self._target.handle(record)


def setup(lazy: bool = True, **keys: str) -> None:
    """Structured JSON for every `lambdaserve.*` log record (Powertools imported lazily)."""
    if not lazy:
        powertools_logger(**keys)
        return
    std = logging.getLogger(SERVICE)
    if not any(isinstance(h, _OnFirstRecord) for h in std.handlers):
        std.setLevel(_level())
        std.addHandler(_OnFirstRecord(dict(keys)))
