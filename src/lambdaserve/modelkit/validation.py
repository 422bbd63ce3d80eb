"""Does the ONNX graph answer like its source? Refusals say by how much and on which rows."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from lambdaserve.modelkit.errors import ModelKitError

TIE_GAP = 1e-4  # a label may differ where the source's top two probabilities are this close


def row_list(rows: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _per_row(mask: np.ndarray) -> np.ndarray:
    return mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim else mask.reshape(1)


def check_finite(outputs: Mapping[str, np.ndarray], what: str) -> None:
    """A model answering NaN or infinity would poison every client: refuse it."""
    for name, values in outputs.items():
        array = np.asarray(values)
        if array.dtype.kind != "f" or array.size == 0:
            continue
        bad = np.flatnonzero(_per_row(~np.isfinite(array)))
        if bad.size:
            raise ModelKitError(
                f"{what} outputs NaN or infinity in {name!r} on {bad.size} of "
                f"{array.shape[0]} sample rows ({row_list(bad)})"
            )


def compare(
    actual: Mapping[str, np.ndarray],
    expected: Mapping[str, np.ndarray],
    *,
    rtol: float,
    atol: float,
    what: str = "the ONNX model",
    against: str = "the source model",
) -> None:
    """Every expected output within atol + rtol * |expected|; labels equal except near ties."""
    for name, want in expected.items():
        if name not in actual:
            raise ModelKitError(f"{what} has no output {name!r} to compare with {against}")
        got = np.asarray(actual[name])
        want = np.asarray(want)
        if got.size != want.size:
            raise ModelKitError(
                f"{what} output {name!r} has shape {list(got.shape)}, "
                f"{against} gives {list(want.shape)}"
            )
        want = want.reshape(got.shape)
        if got.dtype.kind in "fc" or want.dtype.kind in "fc":
            _compare_numbers(name, got, want, rtol, atol, what, against)
        else:
            _compare_labels(name, got, want, expected.get("probabilities"), what, against)


def _compare_numbers(
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    rtol: float,
    atol: float,
    what: str,
    against: str,
) -> None:
    got64, want64 = got.astype(np.float64), want.astype(np.float64)
    diff = np.abs(got64 - want64)
    diff[np.isnan(got64) & np.isnan(want64)] = 0.0
    off = _per_row(~(diff <= atol + rtol * np.abs(want64)))
    bad = np.flatnonzero(off)
    if bad.size:
        worst = np.nan_to_num(diff.reshape(diff.shape[0], -1).max(axis=1), nan=np.inf)
        row = int(worst.argmax())
        raise ModelKitError(
            f"{what} disagrees with {against} in {name!r} on {bad.size} of {got.shape[0]} "
            f"sample rows: max difference {worst[row]:.3g} on row {row} "
            f"(tolerance {atol:g} + {rtol:g} x |value|; {row_list(bad)})"
        )


def _compare_labels(
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    probabilities: np.ndarray | None,
    what: str,
    against: str,
) -> None:
    same = got.astype(str) == want.astype(str)
    off = _per_row(~same)
    if probabilities is not None and np.asarray(probabilities).ndim == 2:
        proba = np.sort(np.asarray(probabilities, dtype=np.float64), axis=1)
        if proba.shape[1] > 1:
            off &= (proba[:, -1] - proba[:, -2]) > TIE_GAP
    bad = np.flatnonzero(off)
    if bad.size:
        row = int(bad[0])
        raise ModelKitError(
            f"{what} disagrees with {against} in {name!r} on {bad.size} of {got.shape[0]} "
            f"sample rows: row {row} is {got.reshape(got.shape[0], -1)[row].tolist()} instead "
            f"of {want.reshape(want.shape[0], -1)[row].tolist()} ({row_list(bad)})"
        )
