"""TF Serving REST routes: `/v1/models/{m}[/versions/{v}|/labels/{l}][:predict|/metadata]`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lambdaserve.codecs import tfserving
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput
from lambdaserve.rest.http import TF_SERVING_TYPES, JSONResponse, LeanRoute, read_json

_PREDICT_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "signature_name": {"type": "string"},
                        "instances": {"type": "array"},
                        "inputs": {},
                        "examples": {"type": "array", "items": {"type": "object"}},
                    },
                },
                "example": {"instances": [[5.1, 3.5, 1.4, 0.2]]},
            }
        },
    }
}


def router(plane: DataPlane, limit: int) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving).
    api = APIRouter(tags=["tensorflow-serving"], route_class=LeanRoute)

    async def _run(
        name: str, version: str | None, label: str | None, verb: str, request: Request
    ) -> JSONResponse:
        body = await read_json(request, limit, TF_SERVING_TYPES)
        manifest = plane.manifest(name, version, label)
        decoded = tfserving.decode(body, verb, manifest)
        response = plane.infer(name, decoded.inference, manifest.version)
        return JSONResponse(tfserving.encode(response, decoded, manifest))

    @api.post("/v1/models/{model_verb}", openapi_extra=_PREDICT_DOC, summary="Predict")
    async def predict(request: Request) -> JSONResponse:
        name, verb = tfserving.split_verb(request.path_params["model_verb"])
        return await _run(name, None, None, verb, request)

    @api.post(
        "/v1/models/{model}/versions/{version_verb}",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with a version",
    )
    async def predict_version(request: Request) -> JSONResponse:
        version, verb = tfserving.split_verb(request.path_params["version_verb"])
        return await _run(request.path_params["model"], version, None, verb, request)

    @api.post(
        "/v1/models/{model}/labels/{label_verb}",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with a labelled version",
    )
    async def predict_label(request: Request) -> JSONResponse:
        label, verb = tfserving.split_verb(request.path_params["label_verb"])
        return await _run(request.path_params["model"], None, label, verb, request)

    def _status(name: str, version: str | None, label: str | None) -> JSONResponse:
        if version is None and label is None:
            return JSONResponse(tfserving.version_status(plane.versions(name)))
        return JSONResponse(tfserving.version_status([plane.resolve(name, version, label)]))

    @api.get("/v1/models/{model}", summary="Model status")
    async def status(request: Request) -> JSONResponse:
        model = request.path_params["model"]
        if ":" in model:
            raise InvalidInput("use POST for :predict, :classify and :regress")
        return _status(model, None, None)

    @api.get("/v1/models/{model}/versions/{version}", summary="Model version status")
    async def status_version(request: Request) -> JSONResponse:
        params = request.path_params
        return _status(params["model"], params["version"], None)

    @api.get("/v1/models/{model}/labels/{label}", summary="Labelled version status")
    async def status_label(request: Request) -> JSONResponse:
        params = request.path_params
        return _status(params["model"], None, params["label"])

    @api.get("/v1/models/{model}/metadata", summary="Model metadata")
    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(tfserving.metadata(plane.manifest(request.path_params["model"])))

    @api.get("/v1/models/{model}/versions/{version}/metadata", summary="Version metadata")
    async def metadata_version(request: Request) -> JSONResponse:
        params = request.path_params
        return JSONResponse(tfserving.metadata(plane.manifest(params["model"], params["version"])))

    @api.get("/v1/models/{model}/labels/{label}/metadata", summary="Labelled version metadata")
    async def metadata_label(request: Request) -> JSONResponse:
        params = request.path_params
        manifest = plane.manifest(params["model"], None, params["label"])
        return JSONResponse(tfserving.metadata(manifest))

    return api
