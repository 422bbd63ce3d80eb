"""`POST /models/{m}/feedback`: ground truth for earlier predictions (README, Observability).

Body: `{"inference_id": ..., "actual": ...}` or a list of them; `actual` is a class value or
label name (classifiers) or a number (regressors), or a list with one per predicted row.
Answers each entry's judgement; unknown or expired ids are a 404, a wrong label type a 400.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import InvalidInput, ModelNotFound
from lambdaserve.observability.feedback import FeedbackService, PredictionStore
from lambdaserve.observability.sink import write_stdout
from lambdaserve.observability.stage import MetricsStage
from lambdaserve.rest.http import JSONResponse, LeanRoute, check_content_type, json_body, read_body
from lambdaserve.rest.limits import Limits
from lambdaserve.settings import Settings

_ENTRY = {
    "type": "object",
    "required": ["inference_id", "actual"],
    "properties": {
        "inference_id": {"type": "string", "description": "the x-inference-id of the prediction"},
        "actual": {"description": "class value or label name, or a number; a list for many rows"},
    },
}
_DOC = json_body(
    {"oneOf": [_ENTRY, {"type": "array", "items": _ENTRY}]},
    {"inference_id": "5f0c8e0b2f0d4a49a6b1d2c3e4f5a6b7", "actual": "setosa"},
)


def feedback_service(plane: DataPlane, settings: Settings) -> FeedbackService:
    """The function's service, sharing the metrics stage's store (one DynamoDB client)."""
    name = settings.model_name or ""
    store = next((s.store for s in plane.stages if isinstance(s, MetricsStage)), None)
    if store is None and settings.feedback_table:
        store = PredictionStore(
            settings.feedback_table,
            settings.feedback_ttl_days * 86_400,
            settings.feedback_timeout_ms / 1000.0,
        )

    def class_labels(version: str) -> tuple[str, ...] | None:
        try:
            return plane.manifest(name, version).class_labels
        except ModelNotFound:  # a retired version: class values still judge
            return None

    return FeedbackService(name, store, class_labels, write_stdout)


def router(service: FeedbackService, limits: Limits) -> APIRouter:
    api = APIRouter(tags=["feedback"], route_class=LeanRoute)

    @api.post("/models/{model}/feedback", openapi_extra=_DOC, summary="Ground-truth feedback")
    async def feedback(request: Request) -> JSONResponse:
        name = request.path_params["model"]
        if name != service.model:
            raise ModelNotFound(f"model {name!r} not found")
        headers = request.headers
        check_content_type(headers.get("content-type"))
        body = await read_body(request, limits.body_bytes, headers.get("content-length"))
        limits.check_depth(body)
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidInput(f"request body is not valid JSON: {exc}") from None
        return JSONResponse(service(payload))

    return api
