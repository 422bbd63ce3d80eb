"""A CSV input's first line -> its layout: which columns are features, which pass through.

The header names the columns; model features are found by name, every other column
passes through unchanged. A header-less file whose first line is exactly the model's
number of numeric fields is read as features in model order. Also here: fields and
names written back as CSV writes them (quoted only when needed, bytes preserved).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lambdaserve.batch.blocks import UnreadableInput

_NUMBER = re.compile(
    r"^\s*(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:nan|inf|infinity))\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CsvLayout:
    names: tuple[str, ...]  # every column, as the header names it (generated if none)
    features: tuple[int, ...]  # column index of each model feature, in model order
    passthrough: tuple[int, ...]  # the other columns, in file order
    has_header: bool

    @property
    def width(self) -> int:
        return len(self.names)

    @property
    def passthrough_names(self) -> tuple[str, ...]:
        return tuple(self.names[i] for i in self.passthrough)


def is_number(text: str) -> bool:
    return _NUMBER.match(text) is not None


def read_header(line: bytes, feature_names: Sequence[str]) -> CsvLayout:
    """Decide what the first line is; raises UnreadableInput if it fits neither shape."""
    try:
        text = line.decode("utf-8-sig").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise UnreadableInput("the first line is not UTF-8 text: not a CSV file") from exc
    if not text.strip():
        raise UnreadableInput("the first line is empty: a CSV file must start with a header")
    try:
        fields = next(csv.reader([text]))
    except csv.Error as exc:
        raise UnreadableInput(f"the first line is not valid CSV: {exc}") from exc
    names = [f.strip() for f in fields]
    wanted = {name: i for i, name in enumerate(feature_names)}
    if not any(name in wanted for name in names):
        if len(names) == len(feature_names) and all(is_number(f) for f in fields):
            generated = tuple(f"column_{i + 1}" for i in range(len(names)))
            return CsvLayout(generated, tuple(range(len(names))), (), has_header=False)
        raise UnreadableInput(
            f"the header names none of the model's {len(feature_names)} features "
            f"({_listing(feature_names)}), and the first line is not a header-less row of "
            f"{len(feature_names)} numbers (it has {len(fields)} fields)"
        )
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in wanted and name in seen:
            raise UnreadableInput(f"feature column {name!r} appears twice in the header")
        seen.setdefault(name, i)
    missing = [n for n in feature_names if n not in seen]
    if missing:
        raise UnreadableInput(f"the header lacks feature column(s): {_listing(missing)}")
    features = tuple(seen[n] for n in feature_names)
    taken = set(features)
    passthrough = tuple(i for i in range(len(names)) if i not in taken)
    return CsvLayout(tuple(names), features, passthrough, has_header=True)


def _listing(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


_SPECIAL = re.compile(r'[,"\r\n]')


def encode_field(field: str) -> bytes:
    """One field as CSV writes it (quoted only when needed), original bytes preserved."""
    if _SPECIAL.search(field):
        field = '"' + field.replace('"', '""') + '"'
    return field.encode("utf-8", "surrogateescape")


def encode_row(fields: Sequence[str]) -> bytes:
    return b",".join(encode_field(f) for f in fields)


def encode_names(names: Sequence[str]) -> list[bytes]:
    return [encode_field(n) for n in names]
