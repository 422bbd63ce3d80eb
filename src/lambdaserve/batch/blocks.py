"""What flows through the block pipeline: a block of raw lines in, a parsed block out.

A `ParsedBlock` holds the good rows (features, input line numbers, passthrough in the
input format's one kind) and the bad rows as `RowError`s, in input order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from lambdaserve.errors import InvalidInput

Passthrough = TypeVar("Passthrough")


class UnreadableInput(InvalidInput):
    """The input as a whole cannot be read (wrong format, corrupt gzip, no usable header)."""


@dataclass(frozen=True)
class Block:
    data: bytes  # whole lines, each ending with b"\n"
    first_line: int  # 1-based line number of the block's first line in the input


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
class ParsedBlock(Generic[Passthrough]):
    """Good rows in input order and the bad rows of one block.

    `passthrough` is what the output repeats of each good row, in the format's own kind:
    CSV gives one `ByteColumn` per passthrough column (fields already CSV-encoded),
    JSON Lines one dict of the non-feature keys per row.
    """

    features: np.ndarray  # float32 [n, n_features]
    lines: np.ndarray  # int64 [n]
    passthrough: Passthrough
    errors: list[RowError] = field(default_factory=list)
    blank_lines: int = 0

    @property
    def rows(self) -> int:
        return int(self.features.shape[0])
