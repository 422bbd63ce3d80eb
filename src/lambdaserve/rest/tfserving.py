"""TF Serving REST routes: `/v1/models/{m}[/versions/{v}|/labels/{l}][:predict|/metadata]`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from lambdaserve.codecs import tfserving
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput
from lambdaserve.rest.http import JSONResponse, LeanRoute, path_parameters, read_json

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
    api = APIRouter(tags=["tensorflow-serving"])

    async def _run(
        name: str, version: str | None, label: str | None, verb: str, request: Request
    ) -> JSONResponse:
        body = await read_json(request, limit)
        manifest = plane.manifest(name, version, label)
        decoded = tfserving.decode(body, verb, manifest)
        response = plane.infer(name, decoded.inference, manifest.version)
        return JSONResponse(tfserving.encode(response, decoded, manifest))

    # The hot routes: LeanRoute endpoints take the bare Request (no dependency solving).
    async def predict(request: Request) -> JSONResponse:
        name, verb = tfserving.split_verb(request.path_params["model_verb"])
        return await _run(name, None, None, verb, request)

    async def predict_version(request: Request) -> JSONResponse:
        version, verb = tfserving.split_verb(request.path_params["version_verb"])
        return await _run(request.path_params["model"], version, None, verb, request)

    async def predict_label(request: Request) -> JSONResponse:
        label, verb = tfserving.split_verb(request.path_params["label_verb"])
        return await _run(request.path_params["model"], None, label, verb, request)

    for path, endpoint, summary, params in (
        ("/v1/models/{model_verb}", predict, "Predict", ("model_verb",)),
        (
            "/v1/models/{model}/versions/{version_verb}",
            predict_version,
            "Predict with a version",
            ("model", "version_verb"),
        ),
        (
            "/v1/models/{model}/labels/{label_verb}",
            predict_label,
            "Predict with a labelled version",
            ("model", "label_verb"),
        ),
    ):
        api.add_api_route(
            path,
            endpoint,
            methods=["POST"],
            summary=summary,
            openapi_extra={**_PREDICT_DOC, **path_parameters(*params)},
            route_class_override=LeanRoute,
        )

    def _status(name: str, version: str | None, label: str | None) -> JSONResponse:
        if version is None and label is None:
            return JSONResponse(tfserving.version_status(plane.versions(name)))
        return JSONResponse(tfserving.version_status([plane.resolve(name, version, label)]))

    @api.get("/v1/models/{model}", summary="Model status")
    async def status(model: str) -> JSONResponse:
        if ":" in model:
            raise InvalidInput("use POST for :predict, :classify and :regress")
        return _status(model, None, None)

    @api.get("/v1/models/{model}/versions/{version}", summary="Model version status")
    async def status_version(model: str, version: str) -> JSONResponse:
        return _status(model, version, None)

    @api.get("/v1/models/{model}/labels/{label}", summary="Labelled version status")
    async def status_label(model: str, label: str) -> JSONResponse:
        return _status(model, None, label)

    @api.get("/v1/models/{model}/metadata", summary="Model metadata")
    async def metadata(model: str) -> JSONResponse:
        return JSONResponse(tfserving.metadata(plane.manifest(model)))

    @api.get("/v1/models/{model}/versions/{version}/metadata", summary="Version metadata")
    async def metadata_version(model: str, version: str) -> JSONResponse:
        return JSONResponse(tfserving.metadata(plane.manifest(model, version)))

    @api.get("/v1/models/{model}/labels/{label}/metadata", summary="Labelled version metadata")
    async def metadata_label(model: str, label: str) -> JSONResponse:
        return JSONResponse(tfserving.metadata(plane.manifest(model, None, label)))

    return api
