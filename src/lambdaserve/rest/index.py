"""Server-wide routes served by the small index function: health, model list, V2 server."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request

from lambdaserve import __version__
from lambdaserve.errors import LambdaserveError, ModelNotFound
from lambdaserve.repository import ModelRepository
from lambdaserve.rest.http import JSONResponse
from lambdaserve.rest.readiness import Readiness

SERVER_NAME = "lambdaserve"
MODEL_PATH = re.compile(r"^(?:models|v1/models|v2/models)/([^/:]+)")
V2_EXTENSIONS = ["binary_tensor_data"]


def model_summary(repository: ModelRepository, name: str) -> dict[str, Any]:
    default = repository.resolve(name)
    manifest = repository.manifest(name, default)
    return {
        "name": name,
        "task": manifest.task,
        "description": manifest.description,
        "versions": repository.versions(name),
        "default_version": default,
        "labels": repository.labels(name),
        "endpoints": {
            "predict": f"/models/{name}/predict",
            "tfserving": f"/v1/models/{name}:predict",
            "v2_infer": f"/v2/models/{name}/infer",
            "docs": f"/models/{name}/docs",
        },
    }


def router(repository: ModelRepository) -> APIRouter:
    api = APIRouter(tags=["server"])
    readiness = Readiness(repository)

    @api.get("/health", summary="Health check")
    async def health() -> JSONResponse:
        names = repository.names()
        problems = readiness.problems()
        status = "healthy" if names and not problems else "unhealthy"
        body = {"status": status, "version": __version__, "models": len(names)}
        body |= {"broken": sorted(problems), "reasons": problems}
        return JSONResponse(body, 200 if status == "healthy" else 503)

    @api.get("/models", summary="List models")
    async def models() -> JSONResponse:
        return JSONResponse({"models": [model_summary(repository, n) for n in repository.names()]})

    @api.get("/v2", summary="Server metadata (Open Inference Protocol)")
    async def server_metadata() -> JSONResponse:
        return JSONResponse(
            {"name": SERVER_NAME, "version": __version__, "extensions": V2_EXTENSIONS}
        )

    @api.get("/v2/health/live", summary="Server live")
    async def live() -> JSONResponse:
        return JSONResponse({"live": True})

    @api.get("/v2/health/ready", summary="Server ready")
    async def ready() -> JSONResponse:
        problems = readiness.problems()
        ok = bool(repository.names()) and not problems
        body: dict[str, object] = {"ready": ok}
        if problems:
            body["unready"] = problems
        return JSONResponse(body, 200 if ok else 503)

    @api.api_route(
        "/{path:path}",
        methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"],
        include_in_schema=False,
    )
    async def fallback(path: str, request: Request) -> JSONResponse:
        """API Gateway's catch-all route lands here: name the unknown model when there is one."""
        match = MODEL_PATH.match(path)
        if match and match.group(1) not in repository.names():
            raise ModelNotFound(f"model {match.group(1)!r} not found")
        raise LambdaserveError(f"no route for {request.method} /{path}", 404)

    return api
