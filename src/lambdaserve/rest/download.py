"""Model files for on-device use: `GET /models/{m}/versions/{v}/model.onnx` and `model.json`.

A client (onnxruntime-web, mobile) downloads a version once and revalidates it with
`If-None-Match`: the ETag is the file's sha256, so an unchanged version answers 304 with
no body. Files are read once per container and kept (the layer is read-only).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import LambdaserveError
from lambdaserve.rest.http import LeanRoute

FILES = {"model.onnx": "application/octet-stream", "model.json": "application/json"}
# Lambda's 6 MB response limit counts the base64 API Gateway needs for binary bodies.
MAX_DOWNLOAD_BYTES = 4_400_000
CACHE_CONTROL = "public, max-age=300, must-revalidate"


class DownloadTooLarge(LambdaserveError):
    """The file exists but cannot pass through API Gateway and Lambda's payload limit."""

    status = 413


def _etag_matches(request: Request, etag: str) -> bool:
    wanted = request.headers.get("if-none-match")
    if wanted is None:
        return False
    tags = {t.strip().removeprefix("W/") for t in wanted.split(",")}
    return "*" in tags or etag in tags


def router(plane: DataPlane) -> APIRouter:
    api = APIRouter(tags=["download"], route_class=LeanRoute)
    cache: dict[Path, tuple[bytes, str]] = {}

    def read(path: Path) -> tuple[bytes, str]:
        if path not in cache:
            data = path.read_bytes()
            cache[path] = (data, '"' + hashlib.sha256(data).hexdigest() + '"')
        return cache[path]

    async def download(request: Request) -> Response:
        params = request.path_params
        filename = request.url.path.rsplit("/", 1)[-1]
        manifest = plane.manifest(params["model"], params["version"])
        data, etag = read(manifest.directory / filename)
        headers = {"etag": etag, "cache-control": CACHE_CONTROL}
        if _etag_matches(request, etag):
            return Response(status_code=304, headers=headers)
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise DownloadTooLarge(
                f"{filename} of {manifest.name!r} version {manifest.version} is "
                f"{len(data):,} bytes, above the {MAX_DOWNLOAD_BYTES:,} bytes a Lambda "
                "response can carry; fetch it from the model layer or store instead"
            )
        return Response(data, media_type=FILES[filename], headers=headers)

    for filename in FILES:
        api.add_api_route(
            f"/models/{{model}}/versions/{{version}}/{filename}",
            download,
            methods=["GET"],
            summary=f"Download {filename} (ETag: sha256)",
        )
    return api
