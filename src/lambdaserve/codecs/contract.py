"""The one contract every protocol codec keeps; the REST pipeline is written against it.

- `decode(body, values, manifest) -> Decoded`: the raw request body, the request values the
  codec declared (by meaning, e.g. `json_length`; rest/ maps them from HTTP headers or path
  segments, so codecs never see an HTTP header name) and the manifest of the version
  selected for this request. Returns the neutral `InferenceRequest` plus whatever the codec
  needs to answer in kind.
- `encode(response, decoded, manifest) -> Encoded`: body bytes, media type, and response
  values by meaning (rest/ names the headers that carry them).

Codecs check the wire format (JSON shapes, datatypes, binary sizes); the model checks the
tensors against its signature (width, finiteness) once, for every protocol and batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, Protocol, TypeVar

import orjson

from lambdaserve.errors import InvalidInput
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelManifest

NO_VALUES: Mapping[str, str] = MappingProxyType({})
JSON = "application/json"


class Decoded(Protocol):
    @property
    def inference(self) -> InferenceRequest: ...


D = TypeVar("D", bound=Decoded)


class Encoded(NamedTuple):
    """What encode returns (a named tuple: built on every request, it must be cheap)."""

    body: bytes
    media_type: str = JSON
    values: Mapping[str, str] = NO_VALUES


class Codec(Protocol[D]):
    def decode(self, body: bytes, values: Mapping[str, str], manifest: ModelManifest) -> D: ...

    def encode(
        self, response: InferenceResponse, decoded: D, manifest: ModelManifest
    ) -> Encoded: ...


def parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"request body is not valid JSON: {exc}") from None


def dump_json(doc: Any) -> bytes:
    """orjson with numpy arrays and scalars serialized natively (no tolist round trip)."""
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)
