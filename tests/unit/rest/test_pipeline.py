"""The request pipeline: one selection, decode, stages, encode and headers on every protocol."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdaserve.dataplane import DataPlane, Next, RequestContext
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.repository import ModelRepository
from lambdaserve.rest import v2 as v2_routes
from lambdaserve.rest.app import create_model_app
from lambdaserve.rest.limits import Limits
from lambdaserve.rest.pipeline import Pipeline
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings

ROW = np.random.default_rng(3).normal(12, 4, size=30).round(3).tolist()
FEATURES = ModelRepository(SOURCE_MODEL_REPOSITORY).manifest("breast_cancer", "1").feature_names
V2_TENSOR = {"name": "input", "shape": [1, 30], "datatype": "FP32", "data": ROW}
# Every predict route of the breast_cancer function, unpinned (the selector decides).
UNPINNED = [
    ("/models/breast_cancer/predict", {"features": ROW}),
    ("/v1/models/breast_cancer:predict", {"instances": [ROW]}),
    ("/v1/models/breast_cancer:classify", {"examples": [dict(zip(FEATURES, ROW, strict=True))]}),
    ("/v2/models/breast_cancer/infer", {"inputs": [V2_TENSOR]}),
]


class CallerKey:
    """A selector reading a caller header: "beta" callers get version 2 unless the path pins."""

    headers = ("x-caller",)

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane
        self.seen: list[dict[str, str]] = []

    def __call__(self, ctx: RequestContext) -> str:
        self.seen.append(dict(ctx.attributes))
        if ctx.version is None and ctx.label is None and ctx.attributes.get("x-caller") == "beta":
            return "2"
        return self.plane.resolve(ctx.model, ctx.version, ctx.label)


class Recording:
    """A stage that adds a header from an attribute and keeps every finished context."""

    headers = ("Cache-Control",)

    def __init__(self) -> None:
        self.finished: list[RequestContext] = []

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        ctx.add_header("x-seen-cache-control", ctx.attributes.get("cache-control", "-"))
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        self.finished.append(ctx)


@pytest.fixture
def wired(models_dir: Path) -> tuple[TestClient, CallerKey, Recording]:
    plane = DataPlane(ModelRepository(models_dir), served=["breast_cancer"])
    selector, stage = CallerKey(plane), Recording()
    plane.configure(selector, [stage])
    settings = Settings(models_dir, "breast_cancer", max_body_bytes=4096)
    app = create_model_app(settings, plane)
    return TestClient(app, raise_server_exceptions=False), selector, stage


def _post(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    return client.post(path, content=orjson.dumps(body), headers=headers)


@pytest.mark.parametrize(("path", "body"), UNPINNED, ids=[p for p, _ in UNPINNED])
def test_every_protocol_selects_through_the_dataplane_and_names_the_version(
    wired: tuple[TestClient, CallerKey, Recording], path: str, body: Any
) -> None:
    client, selector, stage = wired
    default = _post(client, path, body)
    beta = _post(client, path, body, **{"x-caller": "beta", "cache-control": "no-cache"})
    assert default.status_code == beta.status_code == 200, (default.text, beta.text)
    assert default.headers["x-model-version"] == "1"
    assert beta.headers["x-model-version"] == "2"
    # Only the declared headers reach the selector and stages, lower-cased.
    assert selector.seen == [{}, {"x-caller": "beta", "cache-control": "no-cache"}]
    assert default.headers["x-seen-cache-control"] == "-"
    assert beta.headers["x-seen-cache-control"] == "no-cache"
    assert [c.status for c in stage.finished] == [200, 200]
    assert [c.selected_version for c in stage.finished] == ["1", "2"]
    # The answer is version 2's, decoded with version 2's manifest.
    assert default.content != beta.content


@pytest.mark.parametrize(
    ("path", "version"),
    [
        ("/models/breast_cancer/versions/1/predict", "1"),
        ("/v1/models/breast_cancer/versions/1:predict", "1"),
        ("/v1/models/breast_cancer/labels/stable:predict", "1"),
        ("/v2/models/breast_cancer/versions/1/infer", "1"),
    ],
)
def test_a_version_or_label_in_the_path_wins_over_the_selector(
    wired: tuple[TestClient, CallerKey, Recording], path: str, version: str
) -> None:
    client, _, _ = wired
    body = {"inputs": [V2_TENSOR]} if path.startswith("/v2") else {"instances": [ROW]}
    response = _post(client, path, body, **{"x-caller": "beta"})
    assert response.status_code == 200
    assert response.headers["x-model-version"] == version


def test_the_context_records_route_body_timings_and_reply(
    wired: tuple[TestClient, CallerKey, Recording],
) -> None:
    client, _, stage = wired
    body = orjson.dumps({"id": "call-7", "inputs": [V2_TENSOR]})
    assert client.post("/v2/models/breast_cancer/infer", content=body).status_code == 200
    (ctx,) = stage.finished
    assert (ctx.model, ctx.version, ctx.label, ctx.route) == ("breast_cancer", None, None, "infer")
    assert ctx.body == body
    assert ctx.inference_id == "call-7"
    assert ctx.request is not None and ctx.response is not None
    assert ctx.response.outputs["label"].shape == (1,)
    assert 0 < ctx.started < ctx.decoded < ctx.inferred < ctx.encoded
    assert ctx.reply_media_type == "application/json"
    assert orjson.loads(ctx.reply_body or b"")["id"] == "call-7"
    assert ctx.error is None


@pytest.mark.parametrize(
    ("path", "content", "headers", "status"),
    [
        ("/models/breast_cancer/predict", b"{", {}, 400),
        ("/models/breast_cancer/predict", b'{"features": [1, 2]}', {}, 400),
        ("/models/breast_cancer/versions/7/predict", b'{"features": []}', {}, 404),
        ("/models/breast_cancer/predict", b"{}", {"content-type": "text/csv"}, 415),
        ("/models/breast_cancer/predict", b" " * 5000, {}, 413),
        ("/v1/models/breast_cancer:explode", b"{}", {}, 400),
    ],
)
def test_failed_requests_are_finished_with_their_status_and_no_version_header(
    wired: tuple[TestClient, CallerKey, Recording],
    path: str,
    content: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    client, _, stage = wired
    response = client.post(path, content=content, headers=headers)
    assert response.status_code == status
    assert "error" in response.json()
    assert "x-model-version" not in response.headers
    finished = [c.status for c in stage.finished]
    # A path refused before the pipeline (an unknown verb) never reaches the dataplane.
    assert finished == ([] if path.endswith(":explode") else [status])
    if finished:
        assert stage.finished[0].error is not None


def test_binary_v2_values_travel_in_the_extension_header(
    wired: tuple[TestClient, CallerKey, Recording],
) -> None:
    client, _, _ = wired
    raw = np.asarray([ROW], dtype="<f4").tobytes()
    tensor = {**V2_TENSOR, "parameters": {"binary_data_size": len(raw)}}
    del tensor["data"]
    head = orjson.dumps(
        {"inputs": [tensor], "outputs": [{"name": "label", "parameters": {"binary_data": True}}]}
    )
    response = client.post(
        "/v2/models/breast_cancer/infer",
        content=head + raw,
        headers={
            "content-type": "application/octet-stream",
            "Inference-Header-Content-Length": str(len(head)),
        },
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["x-model-version"] == "1"
    length = int(response.headers["inference-header-content-length"])
    reply = orjson.loads(response.content[:length])
    assert reply["outputs"][0]["parameters"]["binary_data_size"] == 8
    assert np.frombuffer(response.content[length:], "<i8").shape == (1,)
    assert int(response.headers["content-length"]) == len(response.content)


def test_a_bad_extension_header_is_a_400(wired: tuple[TestClient, CallerKey, Recording]) -> None:
    client, _, _ = wired
    response = client.post(
        "/v2/models/breast_cancer/infer",
        content=orjson.dumps({"inputs": [V2_TENSOR]}),
        headers={"Inference-Header-Content-Length": "many"},
    )
    assert response.status_code == 400
    assert "JSON length must be a non-negative integer" in response.json()["error"]


HEADER_NAMES = [b"content-type", b"content-length", b"x-caller", b"cache-control", b"host"]
header_names = st.sampled_from([*HEADER_NAMES, b"inference-header-content-length"])
header_values = st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=8)


@pytest.fixture(scope="module")
def reader(models_dir: Path) -> Pipeline:
    """The V2 pipeline of a plane whose selector and stage declared two headers."""
    plane = DataPlane(ModelRepository(models_dir), served=["breast_cancer"])
    plane.configure(CallerKey(plane), [Recording()])
    return Pipeline(plane, v2_routes.BINDING, Limits(body_bytes=1024))


@settings(max_examples=200, deadline=None)
@given(headers=st.lists(st.tuples(header_names, header_values), max_size=12))
def test_one_header_pass_finds_what_each_party_declared(
    reader: Pipeline, headers: list[tuple[bytes, str]]
) -> None:
    """Whatever the headers, each party gets exactly its own ones (the last value wins)."""
    raw = [(k, v.encode("latin-1")) for k, v in headers]
    request = Request({"type": "http", "headers": raw})
    content_type, length, attributes, values = reader._read_headers(request, {"verb": "x"})
    last = {k.decode(): v for k, v in headers}
    assert content_type == last.get("content-type")
    assert length == last.get("content-length")
    assert dict(attributes) == {k: last[k] for k in ("x-caller", "cache-control") if k in last}
    expected = {"verb": "x"}
    if "inference-header-content-length" in last:
        expected["json_length"] = last["inference-header-content-length"]
    assert dict(values) == expected
