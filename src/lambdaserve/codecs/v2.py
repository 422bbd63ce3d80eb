"""Open Inference Protocol (KServe V2 / Triton) REST: JSON tensors and the binary extension.

A request body may be plain JSON, or JSON followed by raw tensor bytes (Triton's binary
tensor extension, the tritonclient default); the request value `json_length` is the
length of the JSON part. A response with binary outputs says the same in its `json_length`
value. (rest/v2.py carries both in the extension's HTTP header.)
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from lambdaserve.codecs.arrays import has_bools, small_floats
from lambdaserve.codecs.contract import JSON, Encoded, dump_json, parse_json
from lambdaserve.datatypes import NUMPY_BY_DATATYPE, cast, datatype_of
from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest

JSON_LENGTH = "json_length"  # request and response value: bytes of JSON before the tensors
BINARY = "application/octet-stream"
_KINDS_ACCEPTED = {
    "b": "b",  # BOOL takes JSON booleans only
    "i": "iuf",  # integers take integers and integral floats (datatypes.cast checks)
    "u": "iuf",
    "f": "iuf",
}

_TENSOR = {
    "type": "object",
    "required": ["name", "shape", "datatype"],
    "properties": {
        "name": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
        "datatype": {"type": "string"},
        "data": {},
        "parameters": {"type": "object"},
    },
}
REQUEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["inputs"],
    "properties": {
        "id": {"type": "string"},
        "parameters": {"type": "object"},
        "inputs": {"type": "array", "items": _TENSOR},
        "outputs": {"type": "array", "items": {"type": "object"}},
    },
}
REQUEST_EXAMPLE = {
    "id": "42",
    "inputs": [
        {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
    ],
}


@dataclass(frozen=True)
class OutputRequest:
    binary: bool | None  # None: not said for this output, the request's default applies


class V2Request(NamedTuple):
    """The decoded request (a named tuple: built on every request, it must be cheap)."""

    inference: InferenceRequest
    # name -> binary flag, for each output the caller asked for (empty: all, default flag)
    requested: dict[str, OutputRequest]
    binary_default: bool


def decode(body: bytes, values: Mapping[str, str], manifest: ModelManifest | None) -> V2Request:
    """The request; tensors are typed by what the caller declared (the model casts them)."""
    header_length = _json_length(values.get(JSON_LENGTH))
    if header_length is None:
        json_part, binary = body, b""
    else:
        if header_length > len(body):
            raise InvalidInput("the binary request's JSON length exceeds the body length")
        json_part, binary = body[:header_length], body[header_length:]
    doc = parse_json(json_part)
    if not isinstance(doc, dict):
        raise InvalidInput("request body must be a JSON object")
    inputs = doc.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise InvalidInput('"inputs" must be a non-empty list of tensors')
    params = _parameters(doc, "request")
    if "classification" in params:
        raise InvalidInput("the classification extension is not supported")
    tensors: dict[str, np.ndarray] = {}
    offset = 0
    for i, raw in enumerate(inputs):
        name, array, offset = _decode_tensor(raw, i, binary, offset)
        if name in tensors:
            raise InvalidInput(f"input {name!r} given twice")
        tensors[name] = array
    if offset != len(binary):
        raise InvalidInput("binary data length does not match the inputs' binary_data_size")
    requested = _requested_outputs(doc.get("outputs"))
    request_id = doc.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise InvalidInput('"id" must be a string')
    inference = InferenceRequest(
        inputs=tensors,
        outputs=tuple(requested) or None,
        id=request_id,
        parameters=params,
    )
    return V2Request(inference, requested, _flag(params, "binary_data_output"))


def _json_length(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise InvalidInput(
            f"the binary request's JSON length must be a non-negative integer, got {raw!r}"
        )
    return int(raw)


def _flag(params: dict[str, Any], key: str) -> bool:
    value = params.get(key, False)
    if not isinstance(value, bool):
        raise InvalidInput(f'parameter "{key}" must be true or false')
    return value


def _parameters(doc: dict[str, Any], where: str) -> dict[str, Any]:
    params = doc.get("parameters") or {}
    if not isinstance(params, dict):
        raise InvalidInput(f'{where} "parameters" must be an object')
    return params


def _decode_tensor(raw: Any, index: int, binary: bytes, offset: int) -> tuple[str, np.ndarray, int]:
    if not isinstance(raw, dict):
        raise InvalidInput(f"inputs[{index}] must be an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f'inputs[{index}] needs a "name"')
    datatype = raw.get("datatype")
    if not isinstance(datatype, str) or datatype not in NUMPY_BY_DATATYPE:
        raise InvalidInput(
            f"input {name!r}: unknown datatype {datatype!r}; expected one of "
            + ", ".join(NUMPY_BY_DATATYPE)
        )
    shape = raw.get("shape")
    if not isinstance(shape, list) or not all(
        isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
    ):
        raise InvalidInput(f'input {name!r}: "shape" must be a list of non-negative integers')
    count = math.prod(shape)
    params = _parameters(raw, f"input {name!r}")
    size = params.get("binary_data_size")
    if size is not None:
        if "data" in raw:
            raise InvalidInput(f"input {name!r} has both data and binary_data_size")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
            or offset + size > len(binary)
        ):
            raise InvalidInput(f"input {name!r}: binary_data_size exceeds the binary data")
        array = _from_binary(binary[offset : offset + size], datatype, count, name)
        return name, _reshape(array, shape, name), offset + size
    if "data" not in raw:
        raise InvalidInput(f'input {name!r} needs "data"')
    return name, _from_json(raw["data"], datatype, shape, count, name), offset


def _from_json(data: Any, datatype: str, shape: list[int], count: int, name: str) -> np.ndarray:
    if not isinstance(data, list):
        data = [data]
    target = NUMPY_BY_DATATYPE[datatype]
    if datatype == "BYTES":
        try:
            array = np.array(data, dtype=object)
        except ValueError:
            raise InvalidInput(f"input {name!r}: nested data is ragged") from None
        if array.size and not all(type(v) is str for v in array.ravel()):
            if any(type(v) is list for v in array.ravel()):
                raise InvalidInput(f"input {name!r}: nested data is ragged")
            raise InvalidInput(f"input {name!r}: BYTES data must be strings")
    else:
        small = small_floats(data, target) if target.kind == "f" else None
        array = _numbers(data, datatype, name) if small is None else small
    if array.shape != tuple(shape):
        if array.ndim != 1 and array.shape != (0,):
            raise InvalidInput(
                f"input {name!r}: nested data has shape {list(array.shape)}, declared {shape}"
            )
        if array.size != count:
            raise InvalidInput(
                f"input {name!r}: shape {shape} needs {count} values, data has {array.size}"
            )
        array = _reshape(array, shape, name)
    return array


def _numbers(data: Any, datatype: str, name: str) -> np.ndarray:
    target = NUMPY_BY_DATATYPE[datatype]
    try:
        array = np.asarray(data)
    except (ValueError, TypeError):
        raise InvalidInput(f"input {name!r}: nested data is ragged") from None
    if datatype == "UINT64" and array.dtype.kind in "fO":
        array = _exact_uint64(data, array)
    if array.size and array.dtype.kind not in _KINDS_ACCEPTED[target.kind]:
        raise InvalidInput(f"input {name!r}: data does not match datatype {datatype}")
    if array.dtype.kind != "b" and has_bools(data, array):
        raise InvalidInput(f"input {name!r}: booleans in {datatype} data")
    return cast(array, datatype, name)


def _exact_uint64(data: Any, array: np.ndarray) -> np.ndarray:
    """numpy reads [0, 2**64 - 1] as float64 (int64 and uint64 promote to float): redo exactly."""
    exact = np.array(data, dtype=object)
    if exact.shape == array.shape and all(type(v) is int and 0 <= v < 2**64 for v in exact.ravel()):
        return exact.astype(np.uint64)
    return array


def _reshape(array: np.ndarray, shape: list[int], name: str) -> np.ndarray:
    # The element count already matches, so numpy can only refuse an absurd shape such as
    # [2**62, 4, 0] (zero elements, but dimensions beyond what an array can index).
    try:
        return array.reshape(shape)
    except ValueError:
        raise InvalidInput(f"input {name!r}: shape {shape} is too large") from None


def _from_binary(chunk: bytes, datatype: str, count: int, name: str) -> np.ndarray:
    if datatype == "BYTES":
        items: list[bytes] = []
        pos = 0
        while pos < len(chunk):
            if pos + 4 > len(chunk):
                raise InvalidInput(f"input {name!r}: truncated BYTES element")
            (length,) = struct.unpack_from("<I", chunk, pos)
            pos += 4
            if pos + length > len(chunk):
                raise InvalidInput(f"input {name!r}: truncated BYTES element")
            items.append(chunk[pos : pos + length])
            pos += length
        if len(items) != count:
            raise InvalidInput(f"input {name!r}: shape needs {count} elements, got {len(items)}")
        return np.array(items, dtype=object)
    dtype = NUMPY_BY_DATATYPE[datatype].newbyteorder("<")
    if len(chunk) != count * dtype.itemsize:
        raise InvalidInput(
            f"input {name!r}: shape needs {count * dtype.itemsize} bytes, got {len(chunk)}"
        )
    return np.frombuffer(chunk, dtype=dtype).astype(dtype.newbyteorder("="), copy=False)


def _requested_outputs(raw: Any) -> dict[str, OutputRequest]:
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise InvalidInput('"outputs" must be a list')
    requested: dict[str, OutputRequest] = {}
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise InvalidInput(f'outputs[{i}] must be an object with a "name"')
        params = _parameters(item, f"outputs[{i}]")
        if "classification" in params:
            raise InvalidInput("the classification extension is not supported")
        binary = _flag(params, "binary_data") if "binary_data" in params else None
        requested[item["name"]] = OutputRequest(binary)
    return requested


def encode(
    response: InferenceResponse, request: V2Request, manifest: ModelManifest | None = None
) -> Encoded:
    """JSON, or JSON then the binary outputs (octet-stream, with `json_length`)."""
    outputs: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    for name, array in response.outputs.items():
        wanted = request.requested.get(name)
        binary = (
            request.binary_default if wanted is None or wanted.binary is None else wanted.binary
        )
        tensor: dict[str, Any] = {
            "name": name,
            "datatype": datatype_of(array),
            "shape": list(array.shape),
        }
        if binary:
            chunk = _to_binary(array)
            tensor["parameters"] = {"binary_data_size": len(chunk)}
            chunks.append(chunk)
        else:
            tensor["data"] = _flat(array)
        outputs.append(tensor)
    doc: dict[str, Any] = {
        "model_name": response.model_name,
        "model_version": response.model_version,
        "outputs": outputs,
    }
    if response.id is not None:
        doc["id"] = response.id
    head = dump_json(doc)
    if not chunks:
        return Encoded(head, JSON)
    return Encoded(head + b"".join(chunks), BINARY, {JSON_LENGTH: str(len(head))})


def _flat(array: np.ndarray) -> Any:
    if array.dtype.kind in "OSU":
        return [
            v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in array.ravel()
        ]
    return array.ravel()  # C-contiguous: a view, or a copy if the array is not


def _to_binary(array: np.ndarray) -> bytes:
    if array.dtype.kind in "OSU":
        parts = []
        for v in array.ravel():
            data = v if isinstance(v, bytes) else str(v).encode()
            parts.append(struct.pack("<I", len(data)) + data)
        return b"".join(parts)
    return np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()


def model_metadata(manifest: ModelManifest, versions: list[str]) -> dict[str, Any]:
    return {
        "name": manifest.name,
        "versions": versions,
        "platform": "onnxruntime_onnx",
        "inputs": [t.to_json() for t in manifest.inputs],
        "outputs": [t.to_json() for t in manifest.outputs],
    }
