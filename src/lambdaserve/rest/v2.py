"""Open Inference Protocol (KServe V2) model routes: infer, metadata, ready."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lambdaserve.codecs import v2
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput
from lambdaserve.rest.http import (
    BINARY_TYPES,
    JSON_TYPES,
    JSONResponse,
    LeanRoute,
    check_content_type,
    header,
    read_body,
)

_INFER_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["inputs"],
                    "properties": {
                        "id": {"type": "string"},
                        "parameters": {"type": "object"},
                        "inputs": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "shape", "datatype"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "shape": {"type": "array", "items": {"type": "integer"}},
                                    "datatype": {"type": "string"},
                                    "data": {},
                                    "parameters": {"type": "object"},
                                },
                            },
                        },
                        "outputs": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "example": {
                    "id": "42",
                    "inputs": [
                        {
                            "name": "input",
                            "shape": [1, 4],
                            "datatype": "FP32",
                            "data": [5.1, 3.5, 1.4, 0.2],
                        }
                    ],
                },
            }
        },
    }
}


_HEADER_LENGTH = v2.HEADER_LENGTH.encode()


def _header_length(request: Request) -> int | None:
    raw = header(request, _HEADER_LENGTH)
    if raw is None:
        return None
    if not raw.strip().isdigit():
        raise InvalidInput("Inference-Header-Content-Length must be a non-negative integer")
    return int(raw)


def router(plane: DataPlane, limit: int) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving).
    api = APIRouter(tags=["open-inference-protocol"], route_class=LeanRoute)

    async def _infer(name: str, version: str | None, request: Request) -> Response:
        check_content_type(request, JSON_TYPES + BINARY_TYPES)
        body = await read_body(request, limit)
        decoded = v2.decode(body, _header_length(request))
        response = plane.infer(name, decoded.inference, version)
        content, header_length = v2.encode(response, decoded)
        if header_length is None:
            return Response(content, media_type="application/json")
        return Response(
            content,
            media_type="application/octet-stream",
            headers={"Inference-Header-Content-Length": str(header_length)},
        )

    @api.post("/v2/models/{model}/infer", openapi_extra=_INFER_DOC, summary="Infer")
    async def infer(request: Request) -> Response:
        return await _infer(request.path_params["model"], None, request)

    @api.post(
        "/v2/models/{model}/versions/{version}/infer",
        openapi_extra=_INFER_DOC,
        summary="Infer with a version",
    )
    async def infer_version(request: Request) -> Response:
        params = request.path_params
        return await _infer(params["model"], params["version"], request)

    def _metadata(name: str, version: str | None) -> JSONResponse:
        return JSONResponse(v2.model_metadata(plane.manifest(name, version), plane.versions(name)))

    @api.get("/v2/models/{model}", summary="Model metadata")
    async def metadata(request: Request) -> JSONResponse:
        return _metadata(request.path_params["model"], None)

    @api.get("/v2/models/{model}/versions/{version}", summary="Model version metadata")
    async def metadata_version(request: Request) -> JSONResponse:
        params = request.path_params
        return _metadata(params["model"], params["version"])

    def _ready(name: str, version: str | None) -> JSONResponse:
        resolved = plane.resolve(name, version)
        ready = plane.is_loaded(name, resolved)
        return JSONResponse(
            {"name": name, "version": resolved, "ready": ready}, 200 if ready else 503
        )

    @api.get("/v2/models/{model}/ready", summary="Model ready")
    async def ready(request: Request) -> JSONResponse:
        return _ready(request.path_params["model"], None)

    @api.get("/v2/models/{model}/versions/{version}/ready", summary="Model version ready")
    async def ready_version(request: Request) -> JSONResponse:
        params = request.path_params
        return _ready(params["model"], params["version"])

    return api
