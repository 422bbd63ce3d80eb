"""What a reader hands the job for one block: features to predict, passthrough, bad rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lambdaserve.batch.texts import Texts
from lambdaserve.errors import InvalidInput


class UnreadableInput(InvalidInput):
    """The object as a whole cannot be read (wrong format, corrupt gzip, no usable header)."""


@dataclass(frozen=True)
class RowError:
    line: int  # 1-based physical line of the input (after decompression)
    reason: str
    text: str  # the offending line, truncated, so the report can be read on its own

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "error": self.reason, "input": self.text}


MAX_ERROR_TEXT = 512


def excerpt(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    text = text.rstrip("\r\n")
    return text if len(text) <= MAX_ERROR_TEXT else text[:MAX_ERROR_TEXT] + "..."


@dataclass
class ParsedBlock:
    """Good rows in input order (features + line numbers + passthrough) and the bad rows.

    CSV passthrough is `Texts` (one segment per passthrough column, already CSV-encoded),
    JSON Lines passthrough is one dict per row.
    """

    features: np.ndarray  # float32 [n, n_features]
    lines: np.ndarray  # int64 [n]
    csv_passthrough: list[Texts] = field(default_factory=list)
    json_passthrough: list[dict[str, Any]] | None = None
    errors: list[RowError] = field(default_factory=list)
    blank_lines: int = 0

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])
