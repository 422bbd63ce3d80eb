"""Rows to validate and measure a model on: a holdout CSV, or rows made from its input spec."""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lambdaserve.datatypes import NUMPY_BY_DATATYPE
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.repository import TensorSpec

GENERATED_ROWS = 64


@dataclass(frozen=True)
class Holdout:
    rows: np.ndarray  # float32, (n, features); for a text model object (str), (n, 1)
    targets: tuple[str, ...] | None  # the target column's raw values, when there is one
    feature_names: tuple[str, ...]  # the header's names for the feature columns


def generated(inputs: tuple[TensorSpec, ...], rows: int = GENERATED_ROWS) -> dict[str, np.ndarray]:
    """Deterministic rows for every input: normal floats, small integers, short strings."""
    rng = np.random.default_rng(0)
    feeds: dict[str, np.ndarray] = {}
    for spec in inputs:
        dims = list(spec.shape) or [rows]
        if dims[0] < 0:
            dims[0] = rows
        if any(d < 0 for d in dims[1:]):
            raise ModelKitError(
                f"input {spec.name!r} has shape {list(spec.shape)}: sample rows cannot be "
                "made for a dynamic dimension beyond the first; give --holdout rows"
            )
        dtype = NUMPY_BY_DATATYPE[spec.datatype]
        if spec.datatype == "BYTES":
            words = np.array(["alpha", "beta", "gamma", "delta"], dtype=object)
            feeds[spec.name] = words[rng.integers(0, len(words), size=dims)]
        elif spec.datatype == "BOOL":
            feeds[spec.name] = rng.integers(0, 2, size=dims).astype(bool)
        elif dtype.kind in "iu":
            feeds[spec.name] = rng.integers(0, 10, size=dims).astype(dtype)
        else:
            feeds[spec.name] = (rng.standard_normal(size=dims) * 2.0).astype(dtype)
    return feeds


def read_holdout(
    path: Path, width: int, feature_names: tuple[str, ...], target: str, *, text: bool = False
) -> Holdout:
    """A CSV with a header: the features (by name when the model knows them) and `target`.

    `text`: the model's features are strings (a BYTES input), kept as they are.
    """
    try:
        with path.open(newline="") as handle:
            lines = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelKitError(f"cannot read holdout {path}: {exc}") from None
    if len(lines) < 2:
        raise ModelKitError(f"holdout {path} needs a header line and at least one row")
    header = [h.strip() for h in lines[0]]
    has_target = target in header
    if feature_names:
        missing = [n for n in feature_names if n not in header]
        if missing:
            raise ModelKitError(
                f"holdout {path} lacks feature column(s) {', '.join(map(repr, missing[:5]))}"
            )
        columns = [header.index(n) for n in feature_names]
        names = feature_names
    else:
        columns = [i for i, h in enumerate(header) if not (has_target and h == target)]
        names = tuple(header[i] for i in columns)
    if len(columns) != width:
        raise ModelKitError(
            f"holdout {path} has {len(columns)} feature columns, the model takes {width}"
        )
    values = np.empty((len(lines) - 1, width), dtype=object if text else np.float64)
    targets: list[str] = []
    where = header.index(target) if has_target else -1
    for number, line in enumerate(lines[1:], start=2):
        if len(line) != len(header):
            raise ModelKitError(
                f"holdout {path} line {number}: {len(line)} fields, header has {len(header)}"
            )
        for j, column in enumerate(columns):
            if text:
                values[number - 2, j] = line[column]
                continue
            try:
                value = float(line[column])
            except ValueError:
                raise ModelKitError(
                    f"holdout {path} line {number}: {header[column]!r} is not a number: "
                    f"{line[column]!r}"
                ) from None
            if not math.isfinite(value):
                raise ModelKitError(
                    f"holdout {path} line {number}: {header[column]!r} is not finite"
                )
            values[number - 2, j] = value
        if has_target:
            targets.append(line[where].strip())
    rows = values if text else values.astype(np.float32)
    return Holdout(rows, tuple(targets) if has_target else None, names)
