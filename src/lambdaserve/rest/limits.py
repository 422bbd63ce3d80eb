"""Per-request limits beyond the body cap: rows per request and JSON nesting depth.

Both are checked without a second parse. Depth: a JSON document nests no deeper than it
has brackets, so the usual request (a few rows) is cleared by two `bytes.count` calls;
only a body with more brackets than the cap gets the exact count, a few vector passes
over its bytes (brackets inside strings, escaped quotes included, do not count). Rows:
the batch dimension of each decoded input, read after decoding and before the model runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from lambdaserve.errors import InvalidInput, PayloadTooLarge
from lambdaserve.settings import SIX_MB, Settings

_QUOTE, _BACKSLASH = 0x22, 0x5C
# Every byte but brackets, quotes and backslashes: deleted before counting (one C pass).
_NOT_STRUCTURAL = bytes(b for b in range(256) if b not in b'[]{}"\\')
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[0x5B, 0x7B]] = 1  # [ {
_STEP[[0x5D, 0x7D]] = -1  # ] }


@dataclass(frozen=True)
class Limits:
    body_bytes: int = SIX_MB
    rows: int = 10_000
    json_depth: int = 32

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(settings.max_body_bytes, settings.max_rows, settings.max_json_depth)

    def check_depth(self, document: bytes) -> None:
        """400 when `document` (JSON) nests deeper than the cap."""
        cap = self.json_depth
        if document.count(b"[") + document.count(b"{") <= cap:
            return
        depth = json_depth(document)
        if depth > cap:
            raise InvalidInput(f"request JSON nests {depth} levels deep; the limit is {cap}")

    def check_rows(self, inputs: Mapping[str, np.ndarray]) -> None:
        """413 when any input carries more rows (its first dimension) than the cap."""
        cap = self.rows
        for name, array in inputs.items():
            if array.ndim and array.shape[0] > cap:
                raise PayloadTooLarge(
                    f"input {name!r} has {array.shape[0]:,} rows; the limit is {cap:,} "
                    "per request (split the request, or use a batch job)"
                )


def json_depth(document: bytes) -> int:
    """The deepest bracket nesting of a JSON text, ignoring brackets inside strings."""
    escapes = b"\\" in document
    if not escapes:  # nothing but brackets and quotes matters: count over those alone
        document = document.translate(None, _NOT_STRUCTURAL)
    raw = np.frombuffer(document, dtype=np.uint8)
    step = _STEP[raw]
    quotes = raw == _QUOTE
    if escapes:
        quotes &= ~_escaped(raw)
    if quotes.any():
        # Between an opening quote and its closing one the running count is odd.
        in_string = (np.cumsum(quotes, dtype=np.int32) & 1).astype(bool)
        step[in_string] = 0
    if not step.any():
        return 0
    return int(np.cumsum(step, dtype=np.int32).max())


def _escaped(raw: np.ndarray) -> np.ndarray:
    """Positions preceded by an odd run of backslashes (an escaped character)."""
    index = np.arange(raw.size, dtype=np.int64)
    backslash = raw == _BACKSLASH
    # The last position at or before i that is not a backslash.
    last_other = np.maximum.accumulate(np.where(backslash, -1, index))
    run_before = np.zeros(raw.size, dtype=np.int64)
    run_before[1:] = index[:-1] - last_other[:-1]
    return (run_before & 1).astype(bool)
