"""Neutral outputs <-> bytes, for the shared table: a small JSON header, then raw buffers.

Numeric arrays travel as their raw bytes (no float formatting either way); string arrays
(BYTES tensors) as a JSON list.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping

import numpy as np
import orjson

_LENGTH = struct.Struct("<I")


def pack(outputs: Mapping[str, np.ndarray]) -> bytes:
    header: list[list[object]] = []
    buffers: list[bytes] = []
    for name, array in outputs.items():
        if array.dtype.kind == "O":
            data = orjson.dumps([_text(v) for v in array.ravel().tolist()])
            header.append([name, "O", list(array.shape), len(data)])
        else:
            data = np.ascontiguousarray(array).tobytes()
            header.append([name, array.dtype.str, list(array.shape), len(data)])
        buffers.append(data)
    head = orjson.dumps(header)
    return b"".join([_LENGTH.pack(len(head)), head, *buffers])


def unpack(blob: bytes) -> dict[str, np.ndarray]:
    """The outputs `pack` wrote; ValueError on anything else (a foreign or cut item)."""
    try:
        (size,) = _LENGTH.unpack_from(blob)
        header = orjson.loads(blob[_LENGTH.size : _LENGTH.size + size])
        offset = _LENGTH.size + size
        outputs: dict[str, np.ndarray] = {}
        for name, dtype, shape, length in header:
            data = blob[offset : offset + length]
            if len(data) != length:
                raise ValueError("truncated cache item")
            offset += length
            if dtype == "O":
                array = np.array(orjson.loads(data), dtype=object).reshape(shape)
            else:
                array = np.frombuffer(data, dtype=np.dtype(dtype)).reshape(shape)
            outputs[name] = array
    except (struct.error, orjson.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"not a cache item: {exc}") from None
    if offset != len(blob):
        raise ValueError("cache item has trailing bytes")
    return outputs


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)
