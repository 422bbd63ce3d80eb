"""Prediction capture records in SageMaker Data Capture's JSON Lines format.

Model Monitor, Athena and Glue already read this shape, so captured traffic from a Lambda
model is analysed with the same tools as a SageMaker endpoint's:

    {"captureData": {"endpointInput":  {"observedContentType", "mode": "INPUT",
                                        "data", "encoding"},
                     "endpointOutput": {..., "mode": "OUTPUT", ...}},
     "eventMetadata": {"eventId", "inferenceId", "inferenceTime", ...},
     "eventVersion": "0"}

Whatever protocol the caller used (seed-style, TF Serving, V2 JSON or binary), the data is
the neutral tensors written as Open Inference Protocol JSON (`{"inputs": [{"name",
"datatype", "shape", "data"}]}`, `{"outputs": [...]}`), so one query reads every protocol's
traffic and `data` decodes back to the exact tensors. `eventMetadata` also names the
`model` and `modelVersion` (the S3 layout `capture/<model>/<version>/...` is partitioned on
them) and, when a shadow ran, its comparison.

Privacy modes: `full` keeps inputs, `hash` replaces each input tensor by an HMAC-SHA256 of
its datatype, shape and bytes under a secret salt (equal inputs still match; values cannot
be read back or guessed from a dictionary without the salt), `drop` leaves the input out,
as SageMaker does when only outputs are captured. Outputs are always kept.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from lambdaserve.datatypes import datatype_of
from lambdaserve.observability.ids import new_id

EVENT_VERSION = "0"
JSON_TYPE = "application/json"
PRIVACY_MODES = ("full", "hash", "drop")
# A capture line must fit one CloudWatch Logs event (256 KB); a bigger tensor is left out
# of its record (and says so) rather than splitting or truncating the line.
MAX_DATA_CHARS = 200_000


@dataclass(frozen=True)
class CapturePolicy:
    """Which requests are captured (a percentage) and what their inputs become."""

    percent: float = 0.0
    privacy: str = "full"
    salt: bytes = field(default=b"", repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.percent <= 100.0:
            raise ValueError(f"capture percentage must be within 0..100, got {self.percent}")
        if self.privacy not in PRIVACY_MODES:
            raise ValueError(
                f"capture privacy must be one of {', '.join(PRIVACY_MODES)}, got {self.privacy!r}"
            )
        if self.privacy == "hash" and len(self.salt) < 16:
            raise ValueError("capture privacy 'hash' needs a secret salt of 16+ bytes")

    @property
    def enabled(self) -> bool:
        return self.percent > 0.0


class Sampler:
    """Draws which requests are captured; seeded per container, never from hash()."""

    __slots__ = ("_fraction", "_random")

    def __init__(self, percent: float) -> None:
        self._fraction = percent / 100.0
        self._random = random.Random(os.urandom(16))

    def reseed(self) -> None:
        """After a snapshot restore: containers restored from one snapshot must not agree."""
        self._random.seed(os.urandom(16))

    def __call__(self) -> bool:
        return self._fraction > 0.0 and self._random.random() < self._fraction


def tensor_json(name: str, array: np.ndarray) -> dict[str, Any]:
    """One tensor as Open Inference Protocol JSON (flat row-major data)."""
    flat = np.ascontiguousarray(array).ravel()
    data: Any
    if flat.dtype.kind in "SO":
        data = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in flat]
    elif flat.dtype.kind == "U":
        data = flat.tolist()
    else:
        data = flat
    return {"name": name, "datatype": datatype_of(array), "shape": list(array.shape), "data": data}


def tensor_digest(name: str, array: np.ndarray, salt: bytes) -> dict[str, Any]:
    """A tensor's identity without its values: HMAC-SHA256 over datatype, shape and bytes."""
    datatype = datatype_of(array)
    mac = hmac.new(salt, digestmod=hashlib.sha256)
    mac.update(f"{datatype}:{list(array.shape)}:".encode())
    if array.dtype.kind in "SOU":
        for value in np.ravel(array):
            item = value if isinstance(value, bytes) else str(value).encode()
            mac.update(len(item).to_bytes(8, "little") + item)
    else:
        mac.update(np.ascontiguousarray(array).tobytes())
    return {
        "name": name,
        "datatype": datatype,
        "shape": list(array.shape),
        "hmac_sha256": mac.hexdigest(),
    }


def _payload(key: str, tensors: list[dict[str, Any]]) -> str:
    return orjson.dumps({key: tensors}, option=orjson.OPT_SERIALIZE_NUMPY).decode()


def inference_time(epoch_seconds: float) -> str:
    """ISO 8601 UTC with milliseconds, as Model Monitor parses it."""
    whole = int(epoch_seconds)
    millis = int((epoch_seconds - whole) * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + f".{millis:03d}Z"


def _event_id() -> str:
    """A UUID-shaped event id (SageMaker's format) from `ids` (no syscall per record)."""
    h = new_id()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def capture_record(
    *,
    model: str,
    version: str,
    inference_id: str,
    inputs: Mapping[str, np.ndarray],
    outputs: Mapping[str, np.ndarray],
    policy: CapturePolicy,
    epoch_seconds: float | None = None,
    shadow: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One Data Capture record for one prediction, with `policy`'s privacy applied."""
    metadata: dict[str, Any] = {
        "eventId": _event_id(),
        "inferenceId": inference_id,
        "inferenceTime": inference_time(time.time() if epoch_seconds is None else epoch_seconds),
        "model": model,
        "modelVersion": version,
        "inputPrivacy": policy.privacy,
    }
    capture: dict[str, Any] = {}
    if policy.privacy != "drop":
        if policy.privacy == "hash":
            tensors = [tensor_digest(n, a, policy.salt) for n, a in inputs.items()]
        else:
            tensors = [tensor_json(n, a) for n, a in inputs.items()]
        data = _payload("inputs", tensors)
        if len(data) <= MAX_DATA_CHARS:
            capture["endpointInput"] = {
                "observedContentType": JSON_TYPE,
                "mode": "INPUT",
                "data": data,
                "encoding": "JSON",
            }
        else:
            metadata["inputOmitted"] = f"input data above {MAX_DATA_CHARS:,} characters"
    data = _payload("outputs", [tensor_json(n, a) for n, a in outputs.items()])
    if len(data) <= MAX_DATA_CHARS:
        capture["endpointOutput"] = {
            "observedContentType": JSON_TYPE,
            "mode": "OUTPUT",
            "data": data,
            "encoding": "JSON",
        }
    else:
        metadata["outputOmitted"] = f"output data above {MAX_DATA_CHARS:,} characters"
    if shadow is not None:
        metadata["shadow"] = dict(shadow)
    return {"captureData": capture, "eventMetadata": metadata, "eventVersion": EVENT_VERSION}


def decode_tensors(data: str) -> dict[str, np.ndarray]:
    """The tensors of a captured `data` string (full privacy), as numpy arrays."""
    from lambdaserve.datatypes import NUMPY_BY_DATATYPE

    payload = orjson.loads(data)
    tensors = payload.get("inputs", payload.get("outputs", []))
    return {
        t["name"]: np.asarray(t["data"], dtype=NUMPY_BY_DATATYPE[t["datatype"]]).reshape(t["shape"])
        for t in tensors
    }
