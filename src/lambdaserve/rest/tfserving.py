"""TF Serving REST routes: `/v1/models/{m}[/versions/{v}|/labels/{l}][:predict|/metadata]`."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lambdaserve.codecs import tfserving
from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput
from lambdaserve.rest.http import TF_SERVING_TYPES, JSONResponse, LeanRoute, json_body
from lambdaserve.rest.limits import Limits
from lambdaserve.rest.pipeline import Binding, Pipeline

_PREDICT_DOC = json_body(tfserving.REQUEST_SCHEMA, tfserving.REQUEST_EXAMPLE)
# The codec's request values for each verb, built once.
_VERB_VALUES = {verb: {tfserving.VERB: verb} for verb in tfserving.VERBS}


def router(plane: DataPlane, limits: Limits) -> APIRouter:
    # LeanRoute: endpoints take the bare Request (no per-request dependency solving). A GET
    # endpoint serves its path plain, per version and per label; decorators apply bottom-up,
    # so the plain path is registered, and tried, first.
    api = APIRouter(tags=["tensorflow-serving"], route_class=LeanRoute)
    pipeline = Pipeline(plane, Binding(tfserving, TF_SERVING_TYPES), limits)

    @api.post("/v1/models/{model_verb}", openapi_extra=_PREDICT_DOC, summary="Predict")
    async def predict(request: Request) -> Response:
        name, verb = tfserving.split_verb(request.path_params["model_verb"])
        return await pipeline(request, name, None, None, verb, _VERB_VALUES[verb])

    @api.post(
        "/v1/models/{model}/versions/{version_verb}",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with a version",
    )
    async def predict_version(request: Request) -> Response:
        version, verb = tfserving.split_verb(request.path_params["version_verb"])
        name = request.path_params["model"]
        return await pipeline(request, name, version, None, verb, _VERB_VALUES[verb])

    @api.post(
        "/v1/models/{model}/labels/{label_verb}",
        openapi_extra=_PREDICT_DOC,
        summary="Predict with a labelled version",
    )
    async def predict_label(request: Request) -> Response:
        label, verb = tfserving.split_verb(request.path_params["label_verb"])
        name = request.path_params["model"]
        return await pipeline(request, name, None, label, verb, _VERB_VALUES[verb])

    @api.get("/v1/models/{model}/labels/{label}", summary="Labelled version status")
    @api.get("/v1/models/{model}/versions/{version}", summary="Model version status")
    @api.get("/v1/models/{model}", summary="Model status")
    async def status(request: Request) -> JSONResponse:
        params = request.path_params
        name, version, label = params["model"], params.get("version"), params.get("label")
        if ":" in name:
            raise InvalidInput("use POST for :predict, :classify and :regress")
        if version is None and label is None:
            return JSONResponse(tfserving.version_status(plane.versions(name)))
        return JSONResponse(tfserving.version_status([plane.resolve(name, version, label)]))

    @api.get("/v1/models/{model}/labels/{label}/metadata", summary="Labelled version metadata")
    @api.get("/v1/models/{model}/versions/{version}/metadata", summary="Version metadata")
    @api.get("/v1/models/{model}/metadata", summary="Model metadata")
    async def metadata(request: Request) -> JSONResponse:
        params = request.path_params
        manifest = plane.manifest(params["model"], params.get("version"), params.get("label"))
        return JSONResponse(tfserving.metadata(manifest))

    return api
