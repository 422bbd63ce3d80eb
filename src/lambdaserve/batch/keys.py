"""The batch bucket's key layout: `incoming/<model>/[v<version>/]<path>` -> `results/...`.

Inputs live under `incoming/`, outputs under `results/`; the function is only ever
triggered by `incoming/`, and refuses anything else, so its own output can never
trigger it again. Output keys are a pure function of the input key, which is what
makes a repeated S3 event overwrite the same objects instead of adding new ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from lambdaserve.errors import InvalidInput

INCOMING = "incoming/"
RESULTS = "results/"
_VERSION_SEGMENT = re.compile(r"^v([0-9]{1,18})$")


class Format(Enum):
    CSV = "csv"
    JSONL = "jsonl"


# Longest suffix first, so `.csv.gz` is not mistaken for a plain `.gz`.
SUFFIXES: tuple[tuple[str, Format, bool], ...] = (
    (".csv.gz", Format.CSV, True),
    (".jsonl.gz", Format.JSONL, True),
    (".csv", Format.CSV, False),
    (".jsonl", Format.JSONL, False),
)


class BadKey(InvalidInput):
    """The key does not follow the batch layout; the message says what is expected."""


@dataclass(frozen=True)
class BatchKey:
    """One input object's place in the layout, and where its outputs go."""

    key: str
    model: str
    version: str | None  # None: the model's `stable` label, else its highest version
    path: str  # the part after `<model>/[v<version>/]`
    format: Format | None  # None: unsupported suffix (reported in the summary)
    gzip: bool

    @property
    def output(self) -> str:
        """Predictions: the input's key with `incoming/` replaced by `results/`."""
        return RESULTS + self.key[len(INCOMING) :]

    @property
    def errors(self) -> str:
        return self.output + ".errors.jsonl"

    @property
    def summary(self) -> str:
        return self.output + ".summary.json"


def is_output(key: str) -> bool:
    return key.startswith(RESULTS)


def detect_format(path: str) -> tuple[Format | None, bool]:
    lower = path.lower()
    for suffix, fmt, gz in SUFFIXES:
        if lower.endswith(suffix) and len(path) > len(suffix):
            return fmt, gz
    return None, False


def parse_key(key: str) -> BatchKey:
    """Split a decoded object key; raises BadKey for anything outside `incoming/<model>/`."""
    if not key.startswith(INCOMING):
        raise BadKey(f"key {key!r} is not under {INCOMING!r}")
    parts = key[len(INCOMING) :].split("/")
    if len(parts) < 2 or not parts[0] or not parts[-1]:
        raise BadKey(
            f"key {key!r} does not name a model and a file: expected "
            f"{INCOMING}<model>/[v<version>/]<file>"
        )
    model, rest = parts[0], parts[1:]
    version = None
    match = _VERSION_SEGMENT.match(rest[0])
    if match and len(rest) > 1:
        version = str(int(match.group(1)))
        rest = rest[1:]
    path = "/".join(rest)
    fmt, gz = detect_format(path)
    return BatchKey(key, model, version, path, fmt, gz)


def fallback_summary_key(key: str) -> str:
    """Where to report a key that does not parse: beside where its output would have gone."""
    rest = key[len(INCOMING) :] if key.startswith(INCOMING) else key
    return RESULTS + rest + ".summary.json"
