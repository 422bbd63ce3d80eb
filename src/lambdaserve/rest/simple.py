"""Seed-style routes: `POST /models/{m}/predict` and `GET /models/{m}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lambdaserve.codecs import simple
from lambdaserve.dataplane import DataPlane
from lambdaserve.rest.http import JSONResponse, LeanRoute, path_parameters, read_json

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
    api = APIRouter(tags=["simple"])

    async def _predict(name: str, version: str | None, request: Request) -> JSONResponse:
        body = await read_json(request, limit)
        manifest = plane.manifest(name, version)
        inference, single = simple.decode(body, manifest)
        response = plane.infer(name, inference, manifest.version)
        return JSONResponse(simple.encode(response, manifest, single))

    # The hot routes: LeanRoute endpoints take the bare Request (no dependency solving).
    async def predict(request: Request) -> JSONResponse:
        return await _predict(request.path_params["model"], None, request)

    async def predict_version(request: Request) -> JSONResponse:
        params = request.path_params
        return await _predict(params["model"], params["version"], request)

    api.add_api_route(
        "/models/{model}/predict",
        predict,
        methods=["POST"],
        summary="Predict",
        openapi_extra={**_PREDICT_DOC, **path_parameters("model")},
        route_class_override=LeanRoute,
    )
    api.add_api_route(
        "/models/{model}/versions/{version}/predict",
        predict_version,
        methods=["POST"],
        summary="Predict with one version",
        openapi_extra={**_PREDICT_DOC, **path_parameters("model", "version")},
        route_class_override=LeanRoute,
    )

    @api.get("/models/{model}", summary="Model info")
    async def info(model: str) -> JSONResponse:
        return JSONResponse(model_info(plane, model, None))

    @api.get("/models/{model}/versions/{version}", summary="Model version info")
    async def info_version(model: str, version: str) -> JSONResponse:
        return JSONResponse(model_info(plane, model, version))

    return api
