"""App factories: one FastAPI app per model function, and one for the index function."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.telemetry import TelemetryConfig
from starlette.exceptions import HTTPException as StarletteHTTPException

from lambdaserve import __version__
from lambdaserve.dataplane import DataPlane, create_dataplane
from lambdaserve.errors import LambdaserveError, ModelNotReady
from lambdaserve.repository import ModelRepository
from lambdaserve.rest import download, feedback, index, simple, tfserving, v2
from lambdaserve.rest.feedback import feedback_service
from lambdaserve.rest.http import JSONResponse
from lambdaserve.rest.limits import Limits
from lambdaserve.settings import Settings

logger = logging.getLogger("lambdaserve")

# FastAPI's native OpenTelemetry asks the global providers on every request whether anyone
# configured them (~20 µs a call, as much as the model's own inference). Nothing here
# configures them: telemetry is planned at the dataplane's stages (EMF, X-Ray subsegments).
NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def request_id(request: Request) -> str:
    """Lambda's request id (what its log lines carry), else API Gateway's, else a fresh one."""
    context: Any = request.scope.get("aws.context")
    rid = getattr(context, "aws_request_id", None)
    if isinstance(rid, str) and rid:
        return rid
    event: Any = request.scope.get("aws.event")
    if isinstance(event, dict):
        rid = (event.get("requestContext") or {}).get("requestId")
        if isinstance(rid, str) and rid:
            return rid
    return str(uuid.uuid4())


def internal_error(request: Request, status: int = 500) -> JSONResponse:
    """Our fault: the caller gets the request id to quote; the details stay in the logs."""
    rid = request_id(request)
    return JSONResponse({"error": f"internal error (request id {rid})", "request_id": rid}, status)


def install_error_handlers(app: FastAPI) -> None:
    """Every client error leaves as `{"error": message}`; our own faults as a generic 5xx."""

    @app.exception_handler(LambdaserveError)
    async def lambdaserve_error(request: Request, exc: LambdaserveError) -> JSONResponse:
        if exc.status >= 500 and not isinstance(exc, ModelNotReady):
            # The message may name files or libraries: logged with the request id, not sent.
            logger.error("request %s failed: %s", request_id(request), exc.message, exc_info=exc)
            return internal_error(request, exc.status)
        return JSONResponse({"error": exc.message}, exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404:
            message = f"no route for {request.method} {request.url.path}"
        elif exc.status_code == 405:
            message = f"method {request.method} not allowed on {request.url.path}"
        return JSONResponse({"error": message}, exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return JSONResponse({"error": f"invalid request: {where} {first.get('msg', '')}"}, 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.error(
            "request %s: unhandled error on %s %s",
            request_id(request),
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return internal_error(request)


def create_model_app(settings: Settings, plane: DataPlane | None = None) -> FastAPI:
    """The app of one model function; loads and warms every version of that model now."""
    name = settings.model_name
    if not name:
        raise ValueError("MODEL_NAME must name the model this function serves")
    if plane is None:
        plane = create_dataplane(settings, served=[name])
    plane.load_all(name)
    app = FastAPI(
        title=f"lambdaserve: {name}",
        version=__version__,
        docs_url=f"/models/{name}/docs",
        redoc_url=None,
        openapi_url=f"/models/{name}/openapi.json",
        default_response_class=JSONResponse,
        telemetry=NO_TELEMETRY,
    )
    limits = Limits.from_settings(settings)
    # Flat: the routes join the app's own list. include_router would add a matching layer
    # that every request walks through (~15 µs a call). Starlette tries routes in order, so
    # the predict and infer routes go first.
    routes = [r for p in (simple, tfserving, v2) for r in p.router(plane, limits).routes]
    routes += download.router(plane).routes
    hot = [r for r in routes if "POST" in (getattr(r, "methods", None) or ())]
    app.router.routes[:0] = hot
    app.router.routes.extend(r for r in routes if r not in hot)
    app.router.routes.extend(feedback.router(feedback_service(plane, settings), limits).routes)
    install_error_handlers(app)
    app.state.dataplane = plane
    return app


def create_index_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="lambdaserve",
        version=__version__,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        default_response_class=JSONResponse,
        telemetry=NO_TELEMETRY,
    )
    app.include_router(index.router(ModelRepository(settings.model_repository)))
    install_error_handlers(app)
    return app
