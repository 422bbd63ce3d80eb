"""Seed-style routes: `POST /models/{m}/predict`, `GET /models/{m}`, each also per version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lambdaserve.codecs import simple
from lambdaserve.dataplane import DataPlane
from lambdaserve.rest.http import JSON_TYPES, JSONResponse, LeanRoute, json_body
from lambdaserve.rest.limits import Limits
from lambdaserve.rest.pipeline import Binding, Pipeline

_PREDICT_DOC = json_body(simple.REQUEST_SCHEMA, simple.REQUEST_EXAMPLE)


def model_info(plane: DataPlane, name: str, version: str | None) -> dict[str, Any]:
    manifest = plane.manifest(name, version)
    return {
        **manifest.to_json(),
        "default_version": plane.resolve(name),
        "versions": plane.versions(name),
        "labels": plane.labels(name),
        "loaded": plane.loaded(name),
    }


def router(plane: DataPlane, limits: Limits) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving). One
    # endpoint serves a path with and without `/versions/{version}`; decorators apply
    # bottom-up, so the plain path is registered, and tried, first.
    api = APIRouter(tags=["simple"], route_class=LeanRoute)
    pipeline = Pipeline(plane, Binding(simple, JSON_TYPES), limits)

    @api.post(
        "/models/{model}/versions/{version}/predict",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with one version",
    )
    @api.post("/models/{model}/predict", openapi_extra=_PREDICT_DOC, summary="Predict")
    async def predict(request: Request) -> Response:
        params = request.path_params
        return await pipeline(request, params["model"], params.get("version"))

    @api.get("/models/{model}/versions/{version}", summary="Model version info")
    @api.get("/models/{model}", summary="Model info")
    async def info(request: Request) -> JSONResponse:
        params = request.path_params
        return JSONResponse(model_info(plane, params["model"], params.get("version")))

    return api
