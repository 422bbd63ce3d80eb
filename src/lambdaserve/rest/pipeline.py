"""The one request pipeline every predict / infer / classify / regress route calls.

select the version (once) -> decode with its manifest -> dataplane stages and model ->
encode -> response with `x-model-version` and the stages' headers -> `plane.finish`.

A `Binding` says how one protocol meets HTTP: its codec, the content types it accepts, and
which HTTP headers carry the codec's request and response values. Everything per request
that can be decided at app creation (header names to read, the codec, the stage chain) is:
so the dataplane is configured before the app is built, and the header names the stages
declare are read once per request, in the same pass as content type and length (which are
the pipeline's own, never stage attributes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from lambdaserve.codecs.contract import NO_VALUES, Codec, Encoded
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.dataplane.context import NO_ATTRIBUTES
from lambdaserve.inference import InferenceResponse
from lambdaserve.rest.http import check_content_type, read_body
from lambdaserve.rest.limits import Limits

MODEL_VERSION = b"x-model-version"
_EMPTY: Mapping[str, str] = NO_VALUES


@dataclass(frozen=True)
class Binding:
    codec: Codec[Any]
    media_types: tuple[str, ...]
    # codec value name -> lower-case HTTP header carrying it, in the request / the response
    request_headers: Mapping[str, str] = field(default_factory=dict)
    response_headers: Mapping[str, str] = field(default_factory=dict)
    # The codec value giving the length of the body's JSON part (binary data follows it);
    # None: the whole body is JSON. The depth limit reads only the JSON part.
    json_length: str | None = None


class RawResponse(Response):
    """A response whose header list is already built (Response.init_headers re-encodes)."""

    def __init__(self, body: bytes, raw_headers: list[tuple[bytes, bytes]]) -> None:
        self.status_code = 200
        self.background = None
        self.body = body
        self.raw_headers = raw_headers


class Pipeline:
    def __init__(self, plane: DataPlane, binding: Binding, limits: Limits) -> None:
        self._plane = plane
        self._codec = binding.codec
        self._media_types = binding.media_types
        self._limits = limits
        self._json_length = binding.json_length
        # One pass over the request headers fills both: what the selector and stages
        # declared (ctx.attributes) and what the codec needs (its values).
        self._wanted: dict[bytes, tuple[bool, str]] = {
            name.encode("latin-1"): (True, name) for name in plane.request_headers
        }
        self._wanted.update(
            (header.lower().encode("latin-1"), (False, value))
            for value, header in binding.request_headers.items()
        )
        self._response_headers = {
            value: header.lower().encode("latin-1")
            for value, header in binding.response_headers.items()
        }

    async def __call__(
        self,
        request: Request,
        name: str,
        version: str | None = None,
        label: str | None = None,
        route: str = "predict",
        values: Mapping[str, str] = _EMPTY,
    ) -> Response:
        """`values`: codec values the route took from the path (e.g. TF Serving's verb)."""
        started = perf_counter()
        content_type, content_length, attributes, values = self._read_headers(request, values)
        ctx = RequestContext(name, version, label, route, attributes, started)
        plane, codec, limits = self._plane, self._codec, self._limits
        try:
            check_content_type(content_type, self._media_types)
            ctx.body = body = await read_body(request, limits.body_bytes, content_length)
            limits.check_depth(self._json_part(body, values))
            manifest = plane.select(ctx).manifest
            decoded = codec.decode(body, values, manifest)
            limits.check_rows(decoded.inference.inputs)
            ctx.decoded = perf_counter()
            response = plane.infer(ctx, decoded.inference)
            ctx.inferred = perf_counter()
            encoded = codec.encode(response, decoded, manifest)
            ctx.encoded = perf_counter()
        except Exception as exc:
            ctx.status = getattr(exc, "status", 500)
            ctx.error = exc
            plane.finish(ctx)
            raise
        ctx.reply_body, ctx.reply_media_type = encoded.body, encoded.media_type
        plane.finish(ctx)  # headers a finisher adds are still sent
        return RawResponse(encoded.body, self._headers(ctx, response, encoded))

    def _json_part(self, body: bytes, values: Mapping[str, str]) -> bytes:
        length = values.get(self._json_length) if self._json_length else None
        if length is not None and length.isdigit():
            return body[: int(length)]
        return body  # a bad length is the codec's to report

    def _read_headers(
        self, request: Request, path_values: Mapping[str, str]
    ) -> tuple[str | None, str | None, Mapping[str, str], Mapping[str, str]]:
        """One pass over the ASGI headers (names arrive lower-cased): content type and
        length, the selector's and stages' attributes, the codec's values."""
        content_type = content_length = None
        attributes: dict[str, str] | None = None
        values: dict[str, str] | None = None
        wanted = self._wanted
        for key, raw in request.scope["headers"]:
            if key == b"content-type":
                content_type = raw.decode("latin-1")
            elif key == b"content-length":
                content_length = raw.decode("latin-1")
            elif wanted and key in wanted:
                is_attribute, name = wanted[key]
                if is_attribute:
                    if attributes is None:
                        attributes = {}
                    attributes[name] = raw.decode("latin-1")
                else:
                    if values is None:
                        values = dict(path_values)
                    values[name] = raw.decode("latin-1")
        return (
            content_type,
            content_length,
            NO_ATTRIBUTES if attributes is None else attributes,
            path_values if values is None else values,
        )

    def _headers(
        self, ctx: RequestContext, response: InferenceResponse, encoded: Encoded
    ) -> list[tuple[bytes, bytes]]:
        body = encoded.body
        headers = [
            (b"content-length", str(len(body)).encode("latin-1")),
            (b"content-type", encoded.media_type.encode("latin-1")),
            (MODEL_VERSION, response.model_version.encode("latin-1")),
        ]
        if encoded.values:
            names = self._response_headers
            headers.extend((names[k], v.encode("latin-1")) for k, v in encoded.values.items())
        if ctx.response_headers:
            headers.extend(
                (k.encode("latin-1"), v.encode("latin-1")) for k, v in ctx.response_headers.items()
            )
        return headers
