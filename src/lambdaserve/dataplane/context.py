"""The per-request (or per-batch-job) context every dataplane stage reads and writes."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from lambdaserve.inference import InferenceRequest, InferenceResponse

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

    Built by the caller (the REST pipeline per request, the batch job per job); filled in
    as the request advances. Plain attributes in slots: a stage reads and writes them
    directly, and building one costs a few hundred nanoseconds.
    """

    __slots__ = (
        "_inference_id",
        "attributes",
        "body",
        "decoded",
        "encoded",
        "error",
        "inferred",
        "label",
        "model",
        "reply_media_type",
        "request",
        "response",
        "response_headers",
        "route",
        "selection",
        "started",
        "status",
        "version",
    )

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
        self.selection: Selection | None = None  # set by DataPlane.select
        self.body: bytes | None = None  # the raw request body (REST), for capture
        self.request: InferenceRequest | None = None  # set by DataPlane.infer
        self.response: InferenceResponse | None = None  # set by DataPlane.infer
        # Headers stages add to the response (lower-case name -> value), e.g. x-cache.
        self.response_headers: dict[str, str] | None = None
        self.reply_media_type: str | None = None
        self.status = 200  # the status the caller gets; an error's status on failure
        self.error: BaseException | None = None
        # time.perf_counter() marks: request start, decode done, inference done, encode done
        # (0.0: not reached). The REST pipeline sets them; a batch job sets what it measures.
        self.started = started
        self.decoded = 0.0
        self.inferred = 0.0
        self.encoded = 0.0
        self._inference_id: str | None = None

    @property
    def selected_version(self) -> str | None:
        return self.selection.version if self.selection is not None else None

    @property
    def inference_id(self) -> str:
        """The caller's request id when it sent one (V2 `id`), else a fresh one, made once."""
        if self._inference_id is None:
            given = self.request.id if self.request is not None else None
            self._inference_id = given or uuid.uuid4().hex
        return self._inference_id

    def add_header(self, name: str, value: str) -> None:
        """A response header from a stage (lower-case name); the pipeline sends it."""
        if self.response_headers is None:
            self.response_headers = {}
        self.response_headers[name] = value

    @property
    def decode_seconds(self) -> float:
        return self.decoded - self.started if self.decoded else 0.0

    @property
    def inference_seconds(self) -> float:
        return self.inferred - self.decoded if self.inferred and self.decoded else 0.0

    @property
    def encode_seconds(self) -> float:
        return self.encoded - self.inferred if self.encoded and self.inferred else 0.0
