"""Model downloads for on-device use: exact bytes, sha256 ETag, conditional GETs, limits."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from lambdaserve.rest import download
from lambdaserve.rest.app import create_model_app
from lambdaserve.settings import Settings


@pytest.fixture(scope="module")
def client(models_dir: Path) -> TestClient:
    settings = Settings(model_repository=models_dir, model_name="breast_cancer")
    return TestClient(create_model_app(settings), raise_server_exceptions=False)


@pytest.mark.parametrize(("version", "filename"), [("1", "model.onnx"), ("2", "model.json")])
def test_a_version_downloads_byte_for_byte_with_its_sha256_as_etag(
    client: TestClient, models_dir: Path, version: str, filename: str
) -> None:
    data = (models_dir / "breast_cancer" / version / filename).read_bytes()
    response = client.get(f"/models/breast_cancer/versions/{version}/{filename}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'
    assert response.headers["content-type"].startswith(download.FILES[filename])


def test_the_onnx_etag_is_the_manifests_sha256(client: TestClient, models_dir: Path) -> None:
    manifest = json.loads((models_dir / "breast_cancer" / "2" / "model.json").read_text())
    response = client.get("/models/breast_cancer/versions/2/model.onnx")
    assert response.headers["etag"] == f'"{manifest["sha256"]}"'


def test_a_matching_if_none_match_answers_304_without_a_body(client: TestClient) -> None:
    etag = client.get("/models/breast_cancer/versions/1/model.onnx").headers["etag"]
    for sent in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        response = client.get(
            "/models/breast_cancer/versions/1/model.onnx", headers={"if-none-match": sent}
        )
        assert response.status_code == 304 and response.content == b""
        assert response.headers["etag"] == etag
    stale = client.get(
        "/models/breast_cancer/versions/1/model.onnx", headers={"if-none-match": '"old"'}
    )
    assert stale.status_code == 200 and stale.content


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/models/breast_cancer/versions/9/model.onnx", 404),
        ("/models/breast_cancer/versions/1/labels.json", 404),
        ("/models/breast_cancer/versions/1/..%2Fmodel.onnx", 404),
    ],
)
def test_unknown_versions_and_files_are_json_404s(
    client: TestClient, path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert "error" in response.json()


def test_files_lambda_cannot_return_get_413(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(download, "MAX_DOWNLOAD_BYTES", 100)
    response = client.get("/models/breast_cancer/versions/2/model.onnx")
    assert response.status_code == 413
    assert "above the 100 bytes a Lambda response can carry" in response.json()["error"]
