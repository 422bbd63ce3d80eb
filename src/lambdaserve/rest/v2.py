"""Open Inference Protocol (KServe V2) model routes: infer, metadata, ready."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lambdaserve.codecs import v2
from lambdaserve.dataplane import DataPlane
from lambdaserve.rest.http import BINARY_TYPES, JSON_TYPES, JSONResponse, LeanRoute, json_body
from lambdaserve.rest.limits import Limits
from lambdaserve.rest.pipeline import Binding, Pipeline

_INFER_DOC = json_body(v2.REQUEST_SCHEMA, v2.REQUEST_EXAMPLE)
# Triton's binary tensor extension: the length of the JSON part, in requests and responses.
JSON_LENGTH_HEADER = "inference-header-content-length"
BINDING = Binding(
    v2,
    JSON_TYPES + BINARY_TYPES,
    request_headers={v2.JSON_LENGTH: JSON_LENGTH_HEADER},
    response_headers={v2.JSON_LENGTH: JSON_LENGTH_HEADER},
    json_length=v2.JSON_LENGTH,
)


def router(plane: DataPlane, limits: Limits) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving). One
    # endpoint serves a path with and without `/versions/{version}`; decorators apply
    # bottom-up, so the plain path is registered, and tried, first.
    api = APIRouter(tags=["open-inference-protocol"], route_class=LeanRoute)
    pipeline = Pipeline(plane, BINDING, limits)

    @api.post(
        "/v2/models/{model}/versions/{version}/infer",
        openapi_extra=_INFER_DOC,
        summary="Infer with a version",
    )
    @api.post("/v2/models/{model}/infer", openapi_extra=_INFER_DOC, summary="Infer")
    async def infer(request: Request) -> Response:
        params = request.path_params
        return await pipeline(request, params["model"], params.get("version"), route="infer")

    @api.get("/v2/models/{model}/versions/{version}", summary="Model version metadata")
    @api.get("/v2/models/{model}", summary="Model metadata")
    async def metadata(request: Request) -> JSONResponse:
        params = request.path_params
        name = params["model"]
        manifest = plane.manifest(name, params.get("version"))
        # `loaded` (versions, load and warm-up time, providers) extends the protocol's body.
        metadata = v2.model_metadata(manifest, plane.versions(name))
        return JSONResponse({**metadata, "loaded": plane.loaded(name)})

    @api.get("/v2/models/{model}/versions/{version}/ready", summary="Model version ready")
    @api.get("/v2/models/{model}/ready", summary="Model ready")
    async def ready(request: Request) -> JSONResponse:
        params = request.path_params
        name = params["model"]
        version = plane.resolve(name, params.get("version"))
        loaded = plane.is_loaded(name, version)
        answer: dict[str, object] = {"name": name, "version": version, "ready": loaded}
        if (name, version) in plane.unready:
            answer["reason"] = plane.unready[(name, version)]
        return JSONResponse(answer, 200 if loaded else 503)

    return api
