"""The per-request (or per-batch-job) context every dataplane stage reads and writes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.observability.ids import new_id

if TYPE_CHECKING:
    from lambdaserve.model import OnnxModel
    from lambdaserve.repository import ModelManifest

NO_ATTRIBUTES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Selection:
    """The model version chosen for one request or job: decode, infer and encode all use it."""

    version: str
    manifest: ModelManifest
    model: OnnxModel


class RequestContext:
    """What one request carries through selection, the stages and the pipeline's encode.

    Built by the caller (the REST pipeline per request, the batch job per job) and filled
    in as the request advances. Fields a request may never reach are class-level defaults,
    so building one sets six attributes (it is on every request's hot path).
    """

    # Set by DataPlane.select / DataPlane.infer.
    selection: Selection | None = None
    request: InferenceRequest | None = None
    response: InferenceResponse | None = None
    # Set by the REST pipeline: the raw request body, and the encoded reply (for capture).
    body: bytes | None = None
    reply_body: bytes | None = None
    reply_media_type: str | None = None
    # Headers stages add to the response (lower-case name -> value), e.g. x-cache.
    response_headers: dict[str, str] | None = None
    # What stages record for later stages and for finish (e.g. "cache": "hit").
    notes: dict[str, Any] | None = None
    # The status the caller gets (an error's status on failure), and the error.
    status: int = 200
    error: BaseException | None = None
    # time.perf_counter() marks after decode, inference and encode (0.0: not reached).
    decoded: float = 0.0
    inferred: float = 0.0
    encoded: float = 0.0
    _inference_id: str | None = None

    def __init__(
        self,
        model: str,
        version: str | None = None,
        label: str | None = None,
        route: str = "predict",
        attributes: Mapping[str, str] = NO_ATTRIBUTES,
        started: float = 0.0,
    ) -> None:
        self.model = model
        # What the caller named (path segment or batch key); None lets the selector choose.
        self.version = version
        self.label = label
        # predict | infer | classify | regress | batch: a metrics dimension.
        self.route = route
        # Lower-cased request header name -> value, for the headers the selector and the
        # stages declared (`headers`); nothing else is read from the request.
        self.attributes = attributes
        self.started = started  # perf_counter() when the request arrived

    @property
    def selected_version(self) -> str | None:
        return self.selection.version if self.selection is not None else None

    @property
    def inference_id(self) -> str:
        """The caller's request id when it sent one (V2 `id`), else a fresh one, made once."""
        if self._inference_id is None:
            given = self.request.id if self.request is not None else None
            self._inference_id = given or new_id()
        return self._inference_id

    def add_header(self, name: str, value: str) -> None:
        """A response header from a stage (lower-case name); the pipeline sends it."""
        if self.response_headers is None:
            self.response_headers = {}
        self.response_headers[name] = value

    def note(self, name: str, value: Any) -> None:
        """Record something for later stages and finishers (cache result, shadow outcome)."""
        if self.notes is None:
            self.notes = {}
        self.notes[name] = value

    @property
    def decode_seconds(self) -> float:
        return self.decoded - self.started if self.decoded else 0.0

    @property
    def inference_seconds(self) -> float:
        return self.inferred - self.decoded if self.inferred and self.decoded else 0.0

    @property
    def encode_seconds(self) -> float:
        return self.encoded - self.inferred if self.encoded and self.inferred else 0.0
