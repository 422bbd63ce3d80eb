"""Seed-style routes: `POST /models/{m}/predict` and `GET /models/{m}`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lambdaserve.codecs import simple
from lambdaserve.dataplane import DataPlane
from lambdaserve.rest.http import JSONResponse, read_json

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

    @api.post("/models/{model}/predict", openapi_extra=_PREDICT_DOC, summary="Predict")
    async def predict(model: str, request: Request) -> JSONResponse:
        return await _predict(model, None, request)

    @api.post(
        "/models/{model}/versions/{version}/predict",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with one version",
    )
    async def predict_version(model: str, version: str, request: Request) -> JSONResponse:
        return await _predict(model, version, request)

    @api.get("/models/{model}", summary="Model info")
    async def info(model: str) -> JSONResponse:
        return JSONResponse(model_info(plane, model, None))

    @api.get("/models/{model}/versions/{version}", summary="Model version info")
    async def info_version(model: str, version: str) -> JSONResponse:
        return JSONResponse(model_info(plane, model, version))

    return api
