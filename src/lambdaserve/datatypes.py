"""Tensor datatypes by their Open Inference Protocol names, and their numpy twins.

The neutral vocabulary shared by model.json, the model, and every codec.
"""

from __future__ import annotations

import numpy as np

from lambdaserve.errors import InvalidInput

NUMPY_BY_DATATYPE: dict[str, np.dtype[np.generic]] = {
    "BOOL": np.dtype(np.bool_),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(np.object_),
}

DATATYPE_BY_NUMPY: dict[np.dtype[np.generic], str] = {
    dt: name for name, dt in NUMPY_BY_DATATYPE.items()
}

# ONNX Runtime's type strings, for checking a session against its manifest.
DATATYPE_BY_ORT: dict[str, str] = {
    "tensor(bool)": "BOOL",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(string)": "BYTES",
}


FLOAT_MAX: dict[np.dtype[np.generic], float] = {
    np.dtype(t): float(np.finfo(t).max) for t in (np.float16, np.float32, np.float64)
}


def datatype_of(array: np.ndarray) -> str:
    """The protocol datatype of an array; strings and bytes are BYTES."""
    if array.dtype.kind in "USO":
        return "BYTES"
    try:
        return DATATYPE_BY_NUMPY[array.dtype]
    except KeyError:
        raise TypeError(f"no protocol datatype for numpy dtype {array.dtype}") from None


def cast(array: np.ndarray, datatype: str, name: str) -> np.ndarray:
    """Cast numeric data to a datatype without silent loss: integral, in range, finite."""
    target = NUMPY_BY_DATATYPE[datatype]
    if array.dtype == target or not array.size:
        return array.astype(target, copy=False)
    if target.kind == "O" or array.dtype.kind not in "biuf":
        got = datatype_of(array) if array.dtype.kind in "USObiuf" else str(array.dtype)
        raise InvalidInput(f"input {name!r} expects {datatype}, got {got}")
    # The hot path (JSON numbers are float64, models take FP32): one reduction proves
    # every value finite and within range, so the cast can neither overflow nor warn.
    # NaN compares False and falls through to the general path below.
    if (
        target.kind == "f"
        and array.dtype.kind == "f"
        and float(np.abs(array).max()) <= FLOAT_MAX[target]
    ):
        return array.astype(target)
    if target.kind == "b" and not np.isin(array, (0, 1)).all():
        raise InvalidInput(f"input {name!r}: BOOL data must be 0 or 1")
    if target.kind in "iu":
        if array.dtype.kind == "f" and not (
            np.isfinite(array).all() and np.equal(np.mod(array, 1), 0).all()
        ):
            raise InvalidInput(f"input {name!r}: {datatype} data must be integers")
        info = np.iinfo(target.type)  # type: ignore[type-var]
        # Compare as Python numbers: exact, where float64 cannot hold 2**63 - 1 or 2**64 - 1.
        if array.min().item() < info.min or array.max().item() > info.max:
            raise InvalidInput(f"input {name!r}: values out of range for {datatype}")
    with np.errstate(over="ignore", invalid="ignore"):
        cast = array.astype(target)
    if target.kind == "f" and np.isfinite(array).all() and not np.isfinite(cast).all():
        raise InvalidInput(f"input {name!r}: values out of range for {datatype}")
    return cast
