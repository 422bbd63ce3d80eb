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

DIGEST_BYTES = 16  # 128 bits: collisions are out of reach for any table this size


def canonical_inputs(
    inputs: Mapping[str, np.ndarray], specs: Mapping[str, TensorSpec]
) -> Mapping[str, np.ndarray] | None:
    """The inputs as the model will see them; None when they do not fit the signature.

    None leaves the request to the model, which refuses it with the precise error; a
    request that cannot be scored is never cached. `inputs` itself comes back when every
    array already has the model's dtype (the codecs decode JSON numbers straight into it),
    so the caller can tell by identity that nothing was cast.
    """
    if len(inputs) != len(specs):
        return None
    canonical: dict[str, np.ndarray] | None = None
    for name, array in inputs.items():
        spec = specs.get(name)
        if spec is None:
            return None
        if array.dtype != NUMPY_BY_DATATYPE[spec.datatype]:
            if canonical is None:
                canonical = dict(inputs)
            canonical[name] = cast(array, spec.datatype, name)
    return inputs if canonical is None else canonical


# (model, version, output names or None, ((input name, dtype, shape, raw bytes), ...)).
# A plain tuple: the LRU's dict hashes and compares it in C, exactly (equal keys are equal
# inputs, not equal digests), and nothing is digested on the hot path; `digest` makes the
# fixed-size key the shared table stores.
CacheKey = tuple[
    str, str, tuple[str, ...] | None, tuple[tuple[str, str, tuple[int, ...], bytes], ...]
]


def request_key(
    model: str,
    version: str,
    inputs: Mapping[str, np.ndarray],
    outputs: Sequence[str] | None,
) -> CacheKey:
    if len(inputs) == 1:  # most models: no sort, no generator
        ((name, array),) = inputs.items()
        tensors: tuple[tuple[str, str, tuple[int, ...], bytes], ...] = (
            (name, array.dtype.str, array.shape, _raw(array)),
        )
    else:
        tensors = tuple(
            (name, array.dtype.str, array.shape, _raw(array))
            for name, array in sorted(inputs.items())
        )
    return model, version, tuple(outputs) if outputs else None, tensors


def key_bytes(key: CacheKey) -> int:
    """What a key holds in memory, for the LRU's byte bound."""
    return sum(len(raw) for *_, raw in key[3])


def digest(key: CacheKey) -> bytes:
    """A fixed-size digest of a key (BLAKE2b-128), for the shared table."""
    model, version, outputs, tensors = key
    hasher = hashlib.blake2b(digest_size=DIGEST_BYTES)
    hasher.update(orjson.dumps([model, version, outputs, [t[:3] for t in tensors]]))
    for *_, raw in tensors:
        hasher.update(raw)
    return hasher.digest()


def _raw(array: np.ndarray) -> bytes:
    if array.dtype.kind == "O":
        # Object arrays hold pointers: key on the texts themselves, length-delimited.
        return b"".join(_element(v) for v in array.ravel().tolist())
    return array.tobytes()  # C order whatever the array's layout


def _element(value: object) -> bytes:
    # A text keys as its UTF-8 bytes, so bytes and the str they encode key alike (the model
    # scores them alike); surrogatepass keeps any str encodable.
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")
    return len(data).to_bytes(4, "little") + data
