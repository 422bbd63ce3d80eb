"""Seed-style routes: `POST /models/{m}/predict` and `GET /models/{m}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lambdaserve.codecs import simple
from lambdaserve.dataplane import DataPlane
from lambdaserve.rest.http import JSONResponse, LeanRoute, read_json

_PREDICT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "features": {
                            "oneOf": [
                                {"type": "array", "items": {"type": "number"}},
                                {"type": "object", "additionalProperties": {"type": "number"}},
                            ]
                        },
                        "instances": {
                            "type": "array",
                            "items": {
                                "oneOf": [
                                    {"type": "array", "items": {"type": "number"}},
                                    {"type": "object", "additionalProperties": {"type": "number"}},
                                ]
                            },
                        },
                    },
                },
                "example": {"features": [5.1, 3.5, 1.4, 0.2]},
            }
        },
    }
}


def model_info(plane: DataPlane, name: str, version: str | None) -> dict[str, Any]:
    manifest = plane.manifest(name, version)
    return {
        **manifest.to_json(),
        "default_version": plane.resolve(name),
        "versions": plane.versions(name),
        "labels": plane.labels(name),
    }


def router(plane: DataPlane, limit: int) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving).
    api = APIRouter(tags=["simple"], route_class=LeanRoute)

    async def _predict(name: str, version: str | None, request: Request) -> JSONResponse:
        body = await read_json(request, limit)
        manifest = plane.manifest(name, version)
        inference, single = simple.decode(body, manifest)
        response = plane.infer(name, inference, manifest.version)
        return JSONResponse(simple.encode(response, manifest, single))

    @api.post("/models/{model}/predict", openapi_extra=_PREDICT_DOC, summary="Predict")
    async def predict(request: Request) -> JSONResponse:
        return await _predict(request.path_params["model"], None, request)

    @api.post(
        "/models/{model}/versions/{version}/predict",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with one version",
    )
    async def predict_version(request: Request) -> JSONResponse:
        params = request.path_params
        return await _predict(params["model"], params["version"], request)

    @api.get("/models/{model}", summary="Model info")
    async def info(request: Request) -> JSONResponse:
        return JSONResponse(model_info(plane, request.path_params["model"], None))

    @api.get("/models/{model}/versions/{version}", summary="Model version info")
    async def info_version(request: Request) -> JSONResponse:
        params = request.path_params
        return JSONResponse(model_info(plane, params["model"], params["version"]))

    return api
