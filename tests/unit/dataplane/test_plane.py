"""DataPlane: loaded models, one selection per request, the stage chain, the batch path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lambdaserve.dataplane import DataPlane, Next, RequestContext
from lambdaserve.errors import InvalidInput, ModelLoadError, ModelNotFound
from lambdaserve.inference import InferenceRequest, InferenceResponse
from lambdaserve.model import OnnxModel, SessionConfig
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

SETOSA = np.array([[5.1, 3.5, 1.4, 0.2]], dtype=np.float32)


@pytest.fixture(scope="module")
def plane() -> DataPlane:
    return DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY))


@pytest.fixture
def iris_only() -> DataPlane:
    return DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["iris"])


def test_model_names(plane: DataPlane, iris_only: DataPlane) -> None:
    assert plane.model_names() == ["breast_cancer", "diabetes", "digits", "iris", "reviews"]
    assert iris_only.model_names() == ["iris"]
    assert DataPlane(plane.repository, served=[]).model_names() == []
    assert DataPlane(plane.repository, served=["iris", "ghost"]).model_names() == ["iris"]


def test_served_restriction_answers_404_for_other_models(iris_only: DataPlane) -> None:
    request = InferenceRequest({"input": np.ones((1, 30), dtype=np.float32)})
    calls = [
        lambda: iris_only.resolve("breast_cancer"),
        lambda: iris_only.versions("breast_cancer"),
        lambda: iris_only.labels("breast_cancer"),
        lambda: iris_only.manifest("breast_cancer"),
        lambda: iris_only.model("breast_cancer", "1"),
        lambda: iris_only.load_all("breast_cancer"),
        lambda: iris_only.predict("breast_cancer", request),
    ]
    for call in calls:
        with pytest.raises(ModelNotFound, match="model 'breast_cancer' not found") as e:
            call()
        assert e.value.status == 404
    assert not iris_only.is_loaded("breast_cancer", "1")
    assert iris_only.resolve("iris") == "1"


def test_resolve_versions_labels(plane: DataPlane) -> None:
    assert plane.versions("breast_cancer") == ["1", "2"]
    assert plane.labels("breast_cancer") == {"stable": "1", "canary": "2"}
    assert plane.labels("iris") == {}
    assert plane.resolve("breast_cancer") == "1"
    assert plane.resolve("breast_cancer", "2") == "2"
    assert plane.resolve("breast_cancer", label="canary") == "2"
    with pytest.raises(ModelNotFound, match="model 'breast_cancer' has no version '3'"):
        plane.resolve("breast_cancer", "3")
    with pytest.raises(ModelNotFound, match="has no version label 'beta'"):
        plane.resolve("breast_cancer", label="beta")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        plane.resolve("nope")


def test_manifest_follows_resolution(plane: DataPlane) -> None:
    assert plane.manifest("breast_cancer").version == "1"
    assert plane.manifest("breast_cancer", label="canary").version == "2"
    assert plane.manifest("breast_cancer", "2").description.endswith("(random forest).")


def test_models_are_cached_and_loaded_once(iris_only: DataPlane) -> None:
    assert not iris_only.is_loaded("iris", "1")
    first = iris_only.model("iris")
    assert isinstance(first, OnnxModel)
    assert iris_only.is_loaded("iris", "1")
    assert iris_only.model("iris") is first
    assert iris_only.model("iris", "1") is first


def test_default_and_explicit_version_share_one_model(plane: DataPlane) -> None:
    assert plane.model("breast_cancer") is plane.model("breast_cancer", "1")
    assert plane.model("breast_cancer", label="canary") is plane.model("breast_cancer", "2")
    assert plane.model("breast_cancer", "1") is not plane.model("breast_cancer", "2")


def test_load_all_loads_every_version() -> None:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY))
    assert not plane.is_loaded("breast_cancer", "1")
    plane.load_all("breast_cancer")
    assert plane.is_loaded("breast_cancer", "1")
    assert plane.is_loaded("breast_cancer", "2")
    assert not plane.is_loaded("iris", "1")
    assert not plane.is_loaded("breast_cancer", "3")


def test_session_config_reaches_the_model() -> None:
    config = SessionConfig(intra_op_threads=2, inter_op_threads=1)
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), config, served=["iris"])
    assert plane.config is config
    assert plane.model("iris").session.get_session_options().intra_op_num_threads == 2


def test_infer_returns_name_version_id_and_outputs(plane: DataPlane) -> None:
    response = plane.predict("iris", InferenceRequest({"input": SETOSA}, id="req-1"))
    assert isinstance(response, InferenceResponse)
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "req-1")
    assert list(response.outputs) == ["label", "probabilities"]
    assert response.outputs["label"].tolist() == [0]
    direct = plane.model("iris").predict({"input": SETOSA})
    np.testing.assert_array_equal(response.outputs["probabilities"], direct["probabilities"])


def test_infer_without_id_and_with_outputs_filter(plane: DataPlane) -> None:
    response = plane.predict(
        "iris", InferenceRequest({"input": SETOSA}, outputs=("probabilities",))
    )
    assert response.id is None
    assert list(response.outputs) == ["probabilities"]


def test_infer_routes_versions_and_labels(plane: DataPlane) -> None:
    x = np.random.default_rng(0).normal(10, 5, size=(8, 30)).astype(np.float32)
    request = InferenceRequest({"input": x})
    default = plane.predict("breast_cancer", request)
    v2 = plane.predict("breast_cancer", request, version="2")
    canary = plane.predict("breast_cancer", request, label="canary")
    assert (default.model_version, v2.model_version, canary.model_version) == ("1", "2", "2")
    np.testing.assert_array_equal(v2.outputs["probabilities"], canary.outputs["probabilities"])
    want_v1 = plane.model("breast_cancer", "1").predict({"input": x})["probabilities"]
    np.testing.assert_array_equal(default.outputs["probabilities"], want_v1)
    # Two different estimators: logistic regression and a random forest.
    assert not np.allclose(default.outputs["probabilities"], v2.outputs["probabilities"])


def test_infer_passes_model_errors_through(plane: DataPlane) -> None:
    bad = InferenceRequest({"input": np.ones((1, 3), dtype=np.float32)})
    with pytest.raises(InvalidInput, match=r"has shape \[1, 3\], model expects \[-1, 4\]"):
        plane.predict("iris", bad)


def test_a_broken_model_fails_to_load_and_is_not_cached(tmp_path: Path) -> None:
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "iris", tmp_path / "iris")
    manifest = tmp_path / "iris" / "1" / "model.json"
    raw = json.loads(manifest.read_text())
    raw["inputs"][0]["name"] = "features"
    manifest.write_text(json.dumps(raw))
    plane = DataPlane(ModelRepository(tmp_path))
    with pytest.raises(ModelLoadError, match="do not match the ONNX graph"):
        plane.model("iris")
    assert not plane.is_loaded("iris", "1")
    with pytest.raises(ModelLoadError):
        plane.predict("iris", InferenceRequest({"features": SETOSA}))


class CallerKeySelector:
    """Version by a caller header (what a traffic policy does), else the path's choice."""

    headers = ("X-Caller",)

    def __init__(self, plane: DataPlane) -> None:
        self.plane = plane

    def __call__(self, ctx: RequestContext) -> str:
        if ctx.version is None and ctx.label is None and ctx.attributes.get("x-caller") == "beta":
            return "2"
        return self.plane.resolve(ctx.model, ctx.version, ctx.label)


class Tagging:
    def __init__(self, *headers: str) -> None:
        self.headers = headers
        self.finished: list[tuple[str | None, int]] = []

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        ctx.add_header("x-tag", ctx.attributes.get("cache-control", "none"))
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        self.finished.append((ctx.selected_version, ctx.status))


def test_select_picks_once_and_shares_the_selection(plane: DataPlane) -> None:
    ctx = RequestContext("breast_cancer", label="canary")
    selection = plane.select(ctx)
    assert ctx.selection is selection
    assert (selection.version, selection.manifest.version) == ("2", "2")
    assert selection.model is plane.model("breast_cancer", "2")
    assert plane.select(RequestContext("breast_cancer", "2")) is selection


def test_select_refuses_models_this_function_does_not_serve(iris_only: DataPlane) -> None:
    ctx = RequestContext("breast_cancer")
    with pytest.raises(ModelNotFound):
        iris_only.select(ctx)
    assert ctx.selection is None


def test_infer_keeps_the_request_and_response_on_the_context(plane: DataPlane) -> None:
    ctx = RequestContext("iris")
    plane.select(ctx)
    request = InferenceRequest({"input": SETOSA}, id="r-1")
    response = plane.infer(ctx, request)
    assert ctx.request is request and ctx.response is response
    assert ctx.inference_id == "r-1"
    assert response.outputs["label"].tolist() == [0]


def test_configure_installs_selector_stages_and_the_headers_they_read() -> None:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["breast_cancer"])
    assert plane.request_headers == ()
    tag = Tagging("Cache-Control", "x-caller")
    plane.configure(CallerKeySelector(plane), [tag])
    assert plane.request_headers == ("x-caller", "cache-control")
    x = np.random.default_rng(1).normal(10, 5, size=(3, 30)).astype(np.float32)
    beta = RequestContext("breast_cancer", attributes={"x-caller": "beta", "cache-control": "no"})
    assert plane.select(beta).version == "2"
    response = plane.infer(beta, InferenceRequest({"input": x}))
    assert response.model_version == "2"
    assert beta.response_headers == {"x-tag": "no"}
    other = RequestContext("breast_cancer", attributes={"x-caller": "alpha"})
    assert plane.select(other).version == "1"
    # A path's version still wins over the caller key.
    pinned = RequestContext("breast_cancer", "1", attributes={"x-caller": "beta"})
    assert plane.select(pinned).version == "1"
    plane.finish(beta)
    assert tag.finished == [("2", 200)]
    plane.configure()  # back to the defaults
    assert plane.request_headers == () and plane.stages == ()
    assert (
        plane.select(RequestContext("breast_cancer", attributes={"x-caller": "beta"})).version
        == "1"
    )


def test_predict_block_runs_the_selected_model_on_many_rows(plane: DataPlane) -> None:
    x = np.random.default_rng(2).normal(10, 5, size=(500, 30)).astype(np.float32)
    ctx = RequestContext("breast_cancer", "2", route="batch")
    plane.select(ctx)
    outputs = plane.predict_block(ctx, {"input": x})
    want = plane.model("breast_cancer", "2").predict({"input": x})
    np.testing.assert_array_equal(outputs["probabilities"], want["probabilities"])
    with pytest.raises(RuntimeError, match="select must run before"):
        plane.predict_block(RequestContext("breast_cancer"), {"input": x})


def test_predict_finishes_answered_and_failed_requests() -> None:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["iris"])
    tag = Tagging()
    plane.configure(stages=[tag])
    plane.predict("iris", InferenceRequest({"input": SETOSA}))
    with pytest.raises(InvalidInput):
        plane.predict("iris", InferenceRequest({"input": np.ones((1, 3), dtype=np.float32)}))
    with pytest.raises(ModelNotFound):
        plane.predict("breast_cancer", InferenceRequest({"input": SETOSA}))
    assert tag.finished == [("1", 200), ("1", 400), (None, 404)]


class BrokenRecorder:
    headers: tuple[str, ...] = ()

    def __call__(
        self, ctx: RequestContext, request: InferenceRequest, call_next: Next
    ) -> InferenceResponse:
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        raise OSError("metrics sink is gone")


def test_a_failing_finisher_is_logged_and_never_fails_the_request(
    caplog: pytest.LogCaptureFixture,
) -> None:
    plane = DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY), served=["iris"])
    after = Tagging()
    plane.configure(stages=[BrokenRecorder(), after])
    with caplog.at_level("ERROR", logger="lambdaserve"):
        response = plane.predict("iris", InferenceRequest({"input": SETOSA}))
    assert response.outputs["label"].tolist() == [0]
    assert after.finished == [("1", 200)]  # the next finisher still ran
    assert "failed to finish" in caplog.text and "metrics sink is gone" in caplog.text
