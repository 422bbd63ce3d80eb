"""OnnxModel on the shipped models: equal to plain onnxruntime, strict about its inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from lambdaserve.errors import InvalidInput, ModelLoadError
from lambdaserve.model import OnnxModel, SessionConfig
from lambdaserve.repository import ModelManifest, ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY

REPO = ModelRepository(SOURCE_MODEL_REPOSITORY)
SHIPPED = [(n, v) for n in REPO.names() for v in REPO.versions(n)]


@pytest.fixture(scope="module")
def models() -> dict[tuple[str, str], OnnxModel]:
    return {key: OnnxModel(REPO.manifest(*key)) for key in SHIPPED}


@pytest.fixture(scope="module")
def iris(models: dict[tuple[str, str], OnnxModel]) -> OnnxModel:
    return models[("iris", "1")]


@pytest.fixture(scope="module")
def diabetes(models: dict[tuple[str, str], OnnxModel]) -> OnnxModel:
    return models[("diabetes", "1")]


def plain_run(manifest: ModelManifest, x: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(manifest.onnx_path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"input": x}), strict=True))


WORDS = np.array(["works", "perfectly", "broke", "okay", "love", "waste", "the", "kettle"])


def sample(manifest: ModelManifest, rows: int, seed: int = 0) -> np.ndarray:
    width = manifest.inputs[0].shape[1]
    rng = np.random.default_rng(seed)
    if manifest.inputs[0].datatype == "BYTES":  # the text sample: a few words per row
        texts = [" ".join(rng.choice(WORDS, size=4)) for _ in range(rows * width)]
        return np.array(texts, dtype=object).reshape(rows, width)
    return rng.uniform(0, 16, size=(rows, width)).astype(np.float32)


def test_all_shipped_versions_are_covered() -> None:
    assert SHIPPED == [
        ("breast_cancer", "1"),
        ("breast_cancer", "2"),
        ("diabetes", "1"),
        ("digits", "1"),
        ("iris", "1"),
        ("reviews", "1"),
    ]


@pytest.mark.parametrize("key", SHIPPED, ids=lambda k: f"{k[0]}-{k[1]}")
def test_predict_equals_plain_onnxruntime(
    models: dict[tuple[str, str], OnnxModel], key: tuple[str, str]
) -> None:
    model = models[key]
    assert (model.name, model.version) == key
    x = sample(model.manifest, 17, seed=len(key[0]))
    got = model.predict({"input": x})
    want = plain_run(model.manifest, x)
    assert list(got) == [t.name for t in model.manifest.outputs]
    for name, expected in want.items():
        assert got[name].dtype == expected.dtype
        assert got[name].shape == expected.shape
        if expected.dtype.kind == "O":  # string labels
            assert got[name].tolist() == expected.tolist()
        else:
            np.testing.assert_allclose(got[name], expected, rtol=1e-5, atol=1e-6)
    if model.manifest.is_classifier:
        n_classes = len(model.manifest.class_labels or ())
        assert got["probabilities"].shape == (17, n_classes)
        np.testing.assert_allclose(got["probabilities"].sum(axis=1), 1.0, rtol=1e-5)
        best = got["probabilities"].argmax(axis=1)
        if got["label"].dtype.kind == "O":  # labels by name (the text sample)
            names = np.array(model.manifest.class_labels, dtype=object)
            assert (got["label"] == names[best]).all()
        else:
            assert (got["label"] == best).all()
    else:
        assert got["prediction"].shape == (17, 1)


def test_iris_known_flowers(iris: OnnxModel) -> None:
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32)
    assert iris.predict({"input": x})["label"].tolist() == [0, 2]


@pytest.mark.parametrize(
    "dtype", [np.float64, np.float16, np.int64, np.int32, np.int8, np.uint8, np.uint64]
)
def test_other_numeric_dtypes_are_coerced(iris: OnnxModel, dtype: type) -> None:
    x = np.array([[5, 3, 1, 0], [7, 3, 5, 2]], dtype=dtype)
    got = iris.predict({"input": x})
    want = iris.predict({"input": x.astype(np.float32)})
    np.testing.assert_array_equal(got["probabilities"], want["probabilities"])
    assert got["probabilities"].dtype == np.float32


def test_fp64_input_equals_its_fp32_rounding(diabetes: OnnxModel) -> None:
    x64 = np.random.default_rng(3).normal(size=(5, 10))
    got = diabetes.predict({"input": x64})["prediction"]
    want = plain_run(diabetes.manifest, x64.astype(np.float32))["prediction"]
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nan_and_inf_refused(iris: OnnxModel, bad: float, dtype: type) -> None:
    x = np.array([[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, bad, 0.2]], dtype=dtype)
    with pytest.raises(InvalidInput, match="input 'input' contains NaN or infinite values") as e:
        iris.predict({"input": x})
    assert e.value.status == 400


def test_fp64_too_large_for_fp32_refused(iris: OnnxModel) -> None:
    x = np.array([[1e300, 1.0, 1.0, 1.0]])
    with pytest.raises(InvalidInput, match="input 'input': values out of range for FP32"):
        iris.predict({"input": x})


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((2, 3), r"input 'input' has shape \[2, 3\], model expects \[-1, 4\]"),
        ((2, 5), r"input 'input' has shape \[2, 5\], model expects \[-1, 4\]"),
        ((4,), r"input 'input' has shape \[4\], model expects \[-1, 4\]"),
        ((1, 2, 4), r"input 'input' has shape \[1, 2, 4\], model expects \[-1, 4\]"),
        ((), r"input 'input' has shape \[\], model expects \[-1, 4\]"),
        ((0, 4), r"input 'input' is empty \(shape \[0, 4\]\)"),
        ((0, 3), r"input 'input' has shape \[0, 3\]"),
    ],
)
def test_wrong_shapes_refused(iris: OnnxModel, shape: tuple[int, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as e:
        iris.predict({"input": np.ones(shape, dtype=np.float32)})
    assert e.value.status == 400


def test_missing_input_refused(iris: OnnxModel) -> None:
    with pytest.raises(InvalidInput, match=r"missing input\(s\): input"):
        iris.predict({})


def test_unknown_input_refused(iris: OnnxModel) -> None:
    x = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(InvalidInput, match="unknown input 'features'; model inputs are input"):
        iris.predict({"features": x})
    with pytest.raises(InvalidInput, match="unknown input 'extra'"):
        iris.predict({"input": x, "extra": x})


@pytest.mark.parametrize(
    "array", [np.array([["a", "b", "c", "d"]]), np.array([[1, None, 2, 3]], dtype=object)]
)
def test_non_numeric_input_refused(iris: OnnxModel, array: np.ndarray) -> None:
    with pytest.raises(InvalidInput, match="input 'input' expects FP32, got BYTES"):
        iris.predict({"input": array})


def test_unknown_output_refused(iris: OnnxModel) -> None:
    x = np.ones((1, 4), dtype=np.float32)
    with pytest.raises(
        InvalidInput, match=r"unknown output\(s\) scores; model outputs are label, probabilities"
    ):
        iris.predict({"input": x}, ["label", "scores"])


@pytest.mark.parametrize("wanted", [["label"], ["probabilities"], ["probabilities", "label"]])
def test_outputs_filter_returns_only_the_requested(iris: OnnxModel, wanted: list[str]) -> None:
    x = np.ones((3, 4), dtype=np.float32)
    full = iris.predict({"input": x})
    got = iris.predict({"input": x}, wanted)
    assert list(got) == wanted
    for name in wanted:
        np.testing.assert_array_equal(got[name], full[name])


def test_empty_outputs_filter_means_all(iris: OnnxModel) -> None:
    got = iris.predict({"input": np.ones((1, 4), dtype=np.float32)}, [])
    assert list(got) == ["label", "probabilities"]


def test_warm_runs_a_real_inference(models: dict[tuple[str, str], OnnxModel]) -> None:
    for model in models.values():
        model.warm()  # returns nothing; must run every shipped graph on zeros without error
        one = sample(model.manifest, 1)
        assert model.predict({"input": one})[model.output_names[0]].shape[0] == 1


def test_session_config_is_applied() -> None:
    opts = SessionConfig(intra_op_threads=2, inter_op_threads=3).options()
    assert opts.intra_op_num_threads == 2
    assert opts.inter_op_num_threads == 3
    assert opts.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    model = OnnxModel(REPO.manifest("iris", "1"), SessionConfig(intra_op_threads=2))
    assert model.session.get_session_options().intra_op_num_threads == 2


@settings(max_examples=50, deadline=None)
@given(
    x=hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 20), st.just(4)),
        elements=st.floats(-1e4, 1e4, width=32),
    )
)
def test_predict_matches_a_second_session_on_random_input(iris: OnnxModel, x: np.ndarray) -> None:
    got = iris.predict({"input": x})
    want = _IRIS_SESSION.run(None, {"input": x})
    np.testing.assert_array_equal(got["label"], want[0])
    np.testing.assert_allclose(got["probabilities"], want[1], rtol=1e-6, atol=1e-7)


_IRIS_SESSION = ort.InferenceSession(
    str(REPO.manifest("iris", "1").onnx_path), providers=["CPUExecutionProvider"]
)


# --- broken models ---------------------------------------------------------------------------


def broken_copy(tmp_path: Path, edit: dict[str, object]) -> ModelManifest:
    directory = tmp_path / "iris" / "1"
    shutil.copytree(SOURCE_MODEL_REPOSITORY / "iris" / "1", directory)
    raw = json.loads((directory / "model.json").read_text())
    for path, value in edit.items():
        target = raw
        keys = path.split(".")
        for k in keys[:-1]:
            target = target[int(k)] if isinstance(target, list) else target[k]
        target[keys[-1] if not isinstance(target, list) else int(keys[-1])] = value
    (directory / "model.json").write_text(json.dumps(raw))
    return ModelRepository(tmp_path).manifest("iris", "1")


@pytest.mark.parametrize(
    ("edit", "side"),
    [
        ({"inputs.0.name": "features"}, "inputs"),
        ({"inputs.0.datatype": "FP64"}, "inputs"),
        ({"outputs.0.name": "class"}, "outputs"),
        ({"outputs.1.datatype": "FP64"}, "outputs"),
        ({"outputs": [{"name": "label", "datatype": "INT64", "shape": [-1]}]}, "outputs"),
    ],
)
def test_manifest_graph_mismatch_refused(
    tmp_path: Path, edit: dict[str, object], side: str
) -> None:
    manifest = broken_copy(tmp_path, edit)
    with pytest.raises(
        ModelLoadError, match=f"model.json {side} of 'iris' version 1 do not match the ONNX graph"
    ) as e:
        OnnxModel(manifest)
    assert e.value.status == 500


def test_corrupt_onnx_file_refused(tmp_path: Path) -> None:
    manifest = broken_copy(tmp_path, {})
    manifest.onnx_path.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelLoadError, match="cannot load model 'iris' version 1"):
        OnnxModel(manifest)


def test_missing_onnx_file_refused(tmp_path: Path) -> None:
    manifest = broken_copy(tmp_path, {})
    manifest.onnx_path.unlink()
    with pytest.raises(ModelLoadError, match="cannot load model 'iris' version 1"):
        OnnxModel(manifest)


@pytest.mark.parametrize("shape", [[-1, 5], [-1, 3], [-1], [-1, 4, 1], [4]])
def test_manifest_input_shape_mismatch_refused(tmp_path: Path, shape: list[int]) -> None:
    manifest = broken_copy(tmp_path, {"inputs.0.shape": shape})
    with pytest.raises(
        ModelLoadError,
        match=r"model.json shape of input 'input' of 'iris' version 1 is .*, the ONNX graph has",
    ):
        OnnxModel(manifest)


def test_manifest_may_fix_a_dynamic_batch_dimension(tmp_path: Path) -> None:
    model = OnnxModel(broken_copy(tmp_path, {"inputs.0.shape": [2, 4]}))
    x = np.ones((2, 4), dtype=np.float32)
    assert model.predict({"input": x})["label"].shape == (2,)
    with pytest.raises(InvalidInput, match=r"has shape \[3, 4\], model expects \[2, 4\]"):
        model.predict({"input": np.ones((3, 4), dtype=np.float32)})
