"""DataPlane: resolve a name/version/label to a cached, warm model and run it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from lambdaserve.dataplane import DataPlane
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
    assert plane.model_names() == ["breast_cancer", "diabetes", "digits", "iris"]
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
        lambda: iris_only.infer("breast_cancer", request),
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
    response = plane.infer("iris", InferenceRequest({"input": SETOSA}, id="req-1"))
    assert isinstance(response, InferenceResponse)
    assert (response.model_name, response.model_version, response.id) == ("iris", "1", "req-1")
    assert list(response.outputs) == ["label", "probabilities"]
    assert response.outputs["label"].tolist() == [0]
    direct = plane.model("iris").predict({"input": SETOSA})
    np.testing.assert_array_equal(response.outputs["probabilities"], direct["probabilities"])


def test_infer_without_id_and_with_outputs_filter(plane: DataPlane) -> None:
    response = plane.infer("iris", InferenceRequest({"input": SETOSA}, outputs=("probabilities",)))
    assert response.id is None
    assert list(response.outputs) == ["probabilities"]


def test_infer_routes_versions_and_labels(plane: DataPlane) -> None:
    x = np.random.default_rng(0).normal(10, 5, size=(8, 30)).astype(np.float32)
    request = InferenceRequest({"input": x})
    default = plane.infer("breast_cancer", request)
    v2 = plane.infer("breast_cancer", request, version="2")
    canary = plane.infer("breast_cancer", request, label="canary")
    assert (default.model_version, v2.model_version, canary.model_version) == ("1", "2", "2")
    np.testing.assert_array_equal(v2.outputs["probabilities"], canary.outputs["probabilities"])
    want_v1 = plane.model("breast_cancer", "1").predict({"input": x})["probabilities"]
    np.testing.assert_array_equal(default.outputs["probabilities"], want_v1)
    # Two different estimators: logistic regression and a random forest.
    assert not np.allclose(default.outputs["probabilities"], v2.outputs["probabilities"])


def test_infer_passes_model_errors_through(plane: DataPlane) -> None:
    bad = InferenceRequest({"input": np.ones((1, 3), dtype=np.float32)})
    with pytest.raises(InvalidInput, match=r"has shape \[1, 3\], model expects \[-1, 4\]"):
        plane.infer("iris", bad)


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
        plane.infer("iris", InferenceRequest({"features": SETOSA}))
