"""The model repository: names, versions, labels, resolve, manifests; never a path escape."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lambdaserve.errors import ModelLoadError, ModelNotFound
from lambdaserve.repository import ModelManifest, ModelRepository, TensorSpec
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

SHIPPED = ["breast_cancer", "diabetes", "digits", "iris", "reviews"]


@pytest.fixture
def repo() -> ModelRepository:
    return ModelRepository(SOURCE_MODEL_REPOSITORY)


def make_version(root: Path, name: str, version: str, source: str = "iris") -> Path:
    """A real model version in a tmp repository, copied from a shipped one."""
    directory = root / name / version
    shutil.copytree(SOURCE_MODEL_REPOSITORY / source / "1", directory)
    return directory


@pytest.fixture
def tmp_repo(tmp_path: Path) -> ModelRepository:
    for v in ("1", "2", "9", "10"):
        make_version(tmp_path, "multi", v)
    make_version(tmp_path, "single", "3")
    return ModelRepository(tmp_path)


# --- names -----------------------------------------------------------------------------------


def test_names_of_the_shipped_repository(repo: ModelRepository) -> None:
    assert (SOURCE_MODEL_REPOSITORY / "Makefile").is_file()
    assert repo.names() == SHIPPED


def test_names_skip_files_invalid_names_and_empty_dirs(tmp_path: Path) -> None:
    make_version(tmp_path, "good", "1")
    (tmp_path / "Makefile").write_text("all:\n")
    (tmp_path / "README.md").write_text("models")
    make_version(tmp_path, ".hidden", "1")
    make_version(tmp_path, "_private", "1")
    make_version(tmp_path, "with space", "1")
    (tmp_path / "empty").mkdir()
    (tmp_path / "no_manifest" / "1").mkdir(parents=True)
    (tmp_path / "bad_versions" / "v1").mkdir(parents=True)
    (tmp_path / "bad_versions" / "v1" / "model.json").write_text("{}")
    assert ModelRepository(tmp_path).names() == ["good"]


def test_names_of_a_missing_root(tmp_path: Path) -> None:
    assert ModelRepository(tmp_path / "absent").names() == []


# --- versions --------------------------------------------------------------------------------


def test_versions_sorted_numerically(tmp_repo: ModelRepository) -> None:
    assert tmp_repo.versions("multi") == ["1", "2", "9", "10"]
    assert tmp_repo.versions("single") == ["3"]


def test_versions_of_the_shipped_models(repo: ModelRepository) -> None:
    assert repo.versions("breast_cancer") == ["1", "2"]
    assert repo.versions("iris") == ["1"]


def test_versions_skip_non_numeric_dirs_files_and_dirs_without_manifest(tmp_path: Path) -> None:
    make_version(tmp_path, "m", "4")
    (tmp_path / "m" / "latest").mkdir()
    (tmp_path / "m" / "latest" / "model.json").write_text("{}")
    (tmp_path / "m" / "5").mkdir()  # no model.json
    (tmp_path / "m" / "6").write_text("a file, not a version")
    assert ModelRepository(tmp_path).versions("m") == ["4"]


def test_versions_of_a_model_without_any(tmp_path: Path) -> None:
    (tmp_path / "hollow").mkdir()
    with pytest.raises(ModelNotFound, match="model 'hollow' not found") as e:
        ModelRepository(tmp_path).versions("hollow")
    assert e.value.status == 404


@pytest.mark.parametrize(
    "name",
    [
        "nope",
        "..",
        ".",
        "../iris",
        "iris/1",
        "a/b",
        "%2e%2e",
        "..%2f",
        "",
        "iris\x00",
        "iris\n",
        "/etc",
    ],
)
def test_unknown_and_traversal_names_refused(repo: ModelRepository, name: str) -> None:
    for call in (repo.versions, repo.labels, repo.resolve):
        with pytest.raises(ModelNotFound, match="not found") as e:
            call(name)
        assert e.value.status == 404
        assert repr(name) in e.value.message


def test_traversal_cannot_reach_a_model_outside_the_root(tmp_path: Path) -> None:
    make_version(tmp_path, "outside", "1")
    root = tmp_path / "repo"
    make_version(root, "inside", "1")
    repo = ModelRepository(root)
    assert repo.names() == ["inside"]
    for name in ("../outside", "..", "inside/../../outside"):
        with pytest.raises(ModelNotFound):
            repo.versions(name)
    with pytest.raises(ModelNotFound):
        repo.manifest("inside", "../../outside/1")


# --- labels ----------------------------------------------------------------------------------


def test_labels_from_labels_json(repo: ModelRepository) -> None:
    assert repo.labels("breast_cancer") == {"stable": "1", "canary": "2"}
    assert repo.labels("iris") == {}


def test_label_values_are_strings(tmp_repo: ModelRepository, tmp_path: Path) -> None:
    (tmp_path / "multi" / "labels.json").write_text(json.dumps({"stable": 2, "canary": "10"}))
    assert tmp_repo.labels("multi") == {"stable": "2", "canary": "10"}


@pytest.mark.parametrize("content", ["{not json", '["stable"]', '"1"'])
def test_broken_labels_json(tmp_repo: ModelRepository, tmp_path: Path, content: str) -> None:
    (tmp_path / "multi" / "labels.json").write_text(content)
    with pytest.raises(ModelLoadError, match=r"invalid labels\.json for model 'multi'") as e:
        tmp_repo.labels("multi")
    assert e.value.status == 500


# --- resolve ---------------------------------------------------------------------------------


def test_resolve_default_is_highest_version_without_labels(tmp_repo: ModelRepository) -> None:
    assert tmp_repo.resolve("multi") == "10"
    assert tmp_repo.resolve("single") == "3"


def test_resolve_default_is_stable_label(repo: ModelRepository) -> None:
    # breast_cancer has versions 1 and 2; stable -> 1 wins over the highest.
    assert repo.resolve("breast_cancer") == "1"


def test_resolve_stable_label_pointing_nowhere_is_a_broken_repository(
    tmp_repo: ModelRepository, tmp_path: Path
) -> None:
    (tmp_path / "multi" / "labels.json").write_text(json.dumps({"stable": "77"}))
    with pytest.raises(ModelLoadError, match="points at missing versions: stable -> 77") as e:
        tmp_repo.resolve("multi")
    assert e.value.status == 500


def test_resolve_explicit_version_and_label(repo: ModelRepository) -> None:
    assert repo.resolve("breast_cancer", "2") == "2"
    assert repo.resolve("breast_cancer", "1") == "1"
    assert repo.resolve("breast_cancer", label="canary") == "2"
    assert repo.resolve("breast_cancer", label="stable") == "1"
    # An explicit version beats a label.
    assert repo.resolve("breast_cancer", "2", "stable") == "2"


@pytest.mark.parametrize("version", ["3", "0", "01", "latest", "../1", "1/", "-1", ""])
def test_resolve_unknown_version(repo: ModelRepository, version: str) -> None:
    with pytest.raises(ModelNotFound, match=f"model 'breast_cancer' has no version {version!r}"):
        repo.resolve("breast_cancer", version)


@pytest.mark.parametrize("label", ["beta", "Stable", ""])
def test_resolve_unknown_label(repo: ModelRepository, label: str) -> None:
    with pytest.raises(ModelNotFound, match=f"has no version label {label!r}") as e:
        repo.resolve("breast_cancer", label=label)
    assert e.value.status == 404


def test_resolve_label_pointing_to_a_missing_version(
    tmp_repo: ModelRepository, tmp_path: Path
) -> None:
    (tmp_path / "multi" / "labels.json").write_text(json.dumps({"canary": "77"}))
    with pytest.raises(ModelLoadError, match="points at missing versions: canary -> 77"):
        tmp_repo.resolve("multi", label="canary")


# --- manifests -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_manifests(repo: ModelRepository, name: str) -> None:
    for version in repo.versions(name):
        m = repo.manifest(name, version)
        assert (m.name, m.version) == (name, version)
        assert m.onnx_path == SOURCE_MODEL_REPOSITORY / name / version / "model.onnx"
        assert m.onnx_path.is_file()
        assert [t.name for t in m.inputs] == ["input"]
        # The text sample takes one string per row (feature "text"), the others floats.
        assert m.inputs[0].datatype == ("BYTES" if name == "reviews" else "FP32")
        assert m.inputs[0].shape == (-1, len(m.feature_names))
        assert m.feature_index == {f: i for i, f in enumerate(m.feature_names)}
        raw = json.loads((m.directory / "model.json").read_text())
        assert m.task == raw["task"]
        assert m.is_classifier == (raw["task"] == "classification")
        if m.is_classifier:
            assert [t.name for t in m.outputs] == ["label", "probabilities"]
            assert m.outputs[1].shape == (-1, len(m.class_labels or ()))
        else:
            assert m.class_labels is None
            assert [t.name for t in m.outputs] == ["prediction"]
        assert m.metrics and m.source["framework"].startswith("scikit-learn")


def test_iris_manifest_details(repo: ModelRepository) -> None:
    m = repo.manifest("iris", "1")
    assert m.class_labels == ("setosa", "versicolor", "virginica")
    assert m.feature_names[0] == "sepal length (cm)"
    assert m.inputs == (TensorSpec("input", "FP32", (-1, 4)),)
    doc = m.to_json()
    assert doc["name"] == "iris" and doc["version"] == "1"
    assert doc["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}]
    assert doc["class_labels"] == ["setosa", "versicolor", "virginica"]
    assert json.loads(json.dumps(doc)) == doc  # plain JSON, no tuples or paths
    assert "directory" not in doc


def test_manifests_are_cached(repo: ModelRepository) -> None:
    assert repo.manifest("iris", "1") is repo.manifest("iris", "1")


def test_manifest_of_unknown_version(repo: ModelRepository) -> None:
    with pytest.raises(ModelNotFound, match="model 'iris' has no version '2'"):
        repo.manifest("iris", "2")
    with pytest.raises(ModelNotFound, match="model 'nope' not found"):
        repo.manifest("nope", "1")


def test_tensor_spec_json_round_trip() -> None:
    spec = TensorSpec.from_json({"name": "x", "datatype": "INT64", "shape": ["-1", 3]})
    assert spec == TensorSpec("x", "INT64", (-1, 3))
    assert TensorSpec.from_json(spec.to_json()) == spec


def test_minimal_manifest_defaults(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text(json.dumps({"inputs": [], "outputs": []}))
    m = ModelManifest.load(tmp_path, "m", "1")
    assert m.task == "unknown" and not m.is_classifier
    assert m.feature_names == () and m.class_labels is None
    assert m.metrics == {} and m.source == {} and m.created is None


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        '"model"',
        "null",
        "{}",
        '{"inputs": []}',
        '{"inputs": 5, "outputs": []}',
        '{"inputs": [{"name": "x"}], "outputs": []}',
        '{"inputs": [{"name": "x", "datatype": "FP32", "shape": ["a"]}], "outputs": []}',
        '{"inputs": [{"name": "x", "datatype": "FP32", "shape": 4}], "outputs": []}',
        '{"inputs": [], "outputs": [], "metrics": [1, 2]}',
        '{"inputs": [], "outputs": [], "class_labels": 3}',
    ],
)
def test_broken_model_json(tmp_path: Path, content: str) -> None:
    directory = make_version(tmp_path, "broken", "1")
    (directory / "model.json").write_text(content)
    repo = ModelRepository(tmp_path)
    assert repo.versions("broken") == ["1"]
    with pytest.raises(ModelLoadError, match="invalid manifest for model 'broken' version 1") as e:
        repo.manifest("broken", "1")
    assert e.value.status == 500


# --- traffic.json ----------------------------------------------------------------------------


def test_traffic_of_the_shipped_example(repo: ModelRepository) -> None:
    policy = repo.traffic("breast_cancer")
    assert policy is not None
    assert policy.split == (("1", 90.0), ("2", 10.0))
    assert policy.sticky_header == "x-user-id"
    assert repo.traffic("iris") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "traffic.json of model 'multi' is not JSON"),
        ('{"split": {"11": 100}}', "'11', which is neither a version nor a label"),
        ('{"split": {"1": 100}, "shadow": {"version": "beta"}}', "shadow version names 'beta'"),
    ],
)
def test_broken_traffic_is_a_load_error(
    tmp_repo: ModelRepository, content: str, problem: str
) -> None:
    (tmp_repo.root / "multi" / "traffic.json").write_text(content)
    with pytest.raises(ModelLoadError, match=problem):
        tmp_repo.traffic("multi")
