"""The cache key: model, selected version, requested outputs and canonical input tensors.

Canonical means what the model would actually score: each input cast (losslessly, or the
request fails as it would in the model) to the dtype model.json declares, C-contiguous. So
`[5.1, 3.5]` sent as JSON float64 through the seed-style or TF Serving codec and as FP32
through V2 hash alike, while any difference in value, shape, dtype, version or output list
gives another key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np
import orjson

from lambdaserve.datatypes import NUMPY_BY_DATATYPE, cast
from lambdaserve.repository import TensorSpec

DIGEST_BYTES = 16  # 128 bits: collisions are out of reach for any cache this size


def canonical_inputs(
    inputs: Mapping[str, np.ndarray], specs: Mapping[str, TensorSpec]
) -> dict[str, np.ndarray] | None:
    """The inputs as the model will see them; None when they do not fit the signature.

    None leaves the request to the model, which refuses it with the precise error; a
    request that cannot be scored is never cached.
    """
    if len(inputs) != len(specs):
        return None
    canonical: dict[str, np.ndarray] = {}
    for name, array in inputs.items():
        spec = specs.get(name)
        if spec is None:
            return None
        if array.dtype != NUMPY_BY_DATATYPE[spec.datatype]:
            array = cast(array, spec.datatype, name)
        canonical[name] = array
    return canonical


def request_key(
    model: str,
    version: str,
    inputs: Mapping[str, np.ndarray],
    outputs: Sequence[str] | None,
) -> bytes:
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    digest.update(orjson.dumps([model, version, list(outputs) if outputs else None]))
    for name in sorted(inputs):
        array = inputs[name]
        digest.update(orjson.dumps([name, array.dtype.str, array.shape]))
        if array.dtype.kind == "O":
            # Object arrays hold pointers: hash the strings themselves, length-delimited.
            digest.update(orjson.dumps([_text(v) for v in array.ravel().tolist()]))
        else:
            digest.update(np.ascontiguousarray(array).data)
    return digest.digest()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return str(value)
