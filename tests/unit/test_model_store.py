"""S3-stored models on moto: a >100 MB version fetched at load, verified, reused, refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import boto3
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from lambdaserve.dataplane import DataPlane
from lambdaserve.errors import ModelLoadError
from lambdaserve.model import SessionConfig
from lambdaserve.model_store import S3ModelStore, file_sha256, object_key
from lambdaserve.repository import ModelRepository

BUCKET = "lambdaserve-model-store-test"  # the model_store_s3 fixture's (tests/conftest.py)
COLUMNS = 6_600_000  # x [n, 4] @ W [4, COLUMNS] float32: a 105.6 MB initializer


def big_model(path: Path) -> None:
    """prediction = sum over the columns of x @ W, W all ones: COLUMNS * sum(x)."""
    weights = numpy_helper.from_array(np.ones((4, COLUMNS), dtype=np.float32), "W")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["input", "W"], ["wide"]),
            helper.make_node("ReduceSum", ["wide", "axes"], ["prediction"], keepdims=1),
        ],
        "big",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
        [weights, numpy_helper.from_array(np.array([1], dtype=np.int64), "axes")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.write_bytes(model.SerializeToString())


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "model.onnx"
    big_model(path)
    assert path.stat().st_size > 100 * 2**20
    onnx.checker.check_model(str(path))
    return path


def manifest_json(sha256: str, store: str = "s3") -> dict[str, Any]:
    return {
        "name": "big",
        "version": "1",
        "task": "regression",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 4]}],
        "outputs": [{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}],
        "store": store,
        "sha256": sha256,
    }


@pytest.fixture
def s3(model_store_s3: Any) -> Any:
    return model_store_s3


@pytest.fixture
def repo_root(tmp_path: Path, big_file: Path) -> Path:
    """A layer with the version's model.json only, as the models layer ships it."""
    version = tmp_path / "layer" / "big" / "1"
    version.mkdir(parents=True)
    (version / "model.json").write_text(json.dumps(manifest_json(file_sha256(big_file))))
    return tmp_path / "layer"


class Counting:
    """The real boto3 client, counting downloads."""

    def __init__(self) -> None:
        self.downloads = 0

    def __call__(self) -> Any:
        client = boto3.client("s3")
        real = client.download_file

        def download_file(*args: Any, **kwargs: Any) -> Any:
            self.downloads += 1
            return real(*args, **kwargs)

        client.download_file = download_file
        return client


def _plane(root: Path, cache: Path, factory: Counting) -> DataPlane:
    store = S3ModelStore(BUCKET, cache_dir=cache, client_factory=factory)
    return DataPlane(ModelRepository(root, store), SessionConfig())


def test_a_big_model_is_fetched_verified_served_and_reused(
    s3: Any, repo_root: Path, big_file: Path, tmp_path: Path
) -> None:
    s3.upload_file(str(big_file), BUCKET, object_key("models/", "big", "1"))
    cache, factory = tmp_path / "tmp", Counting()
    plane = _plane(repo_root, cache, factory)
    # Sums below 2**24 are exact in float32, whatever order onnxruntime adds in.
    x = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    got = plane.model("big").predict({"input": x})["prediction"]
    assert got[:, 0].tolist() == [COLUMNS, 2 * COLUMNS]
    local = cache / "big" / "1" / "model.onnx"
    assert file_sha256(local) == file_sha256(big_file) and factory.downloads == 1
    assert not (repo_root / "big" / "1" / "model.onnx").exists()  # never in the layer
    assert [p.name for p in local.parent.iterdir()] == ["model.onnx"]  # no partial files left

    # A new process in the same sandbox (a retried init, a restored snapshot's /tmp) reuses
    # the verified file; one whose bytes changed is fetched again.
    again = _plane(repo_root, cache, factory)
    again.model("big")
    assert factory.downloads == 1
    with local.open("r+b") as f:
        f.seek(1000)
        f.write(b"\0\0\0\0")
    _plane(repo_root, cache, factory).model("big")
    assert factory.downloads == 2 and file_sha256(local) == file_sha256(big_file)


def test_an_object_that_is_not_the_published_version_is_refused(
    s3: Any, repo_root: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other.onnx"
    shutil.copy(Path(__file__).resolve().parents[2] / "layers/models/iris/1/model.onnx", other)
    s3.upload_file(str(other), BUCKET, object_key("models/", "big", "1"))
    cache = tmp_path / "tmp"
    with pytest.raises(ModelLoadError, match=r"has sha256 .* model.json says"):
        _plane(repo_root, cache, Counting()).model("big")
    assert not (cache / "big" / "1" / "model.onnx").exists()


def test_a_missing_object_or_bucket_is_a_load_error(
    s3: Any, repo_root: Path, tmp_path: Path
) -> None:
    with pytest.raises(
        ModelLoadError,
        match=f"cannot fetch model 'big' version 1 from s3://{BUCKET}/models/big/1/model.onnx",
    ):
        _plane(repo_root, tmp_path / "tmp", Counting()).model("big")
    assert list((tmp_path / "tmp" / "big" / "1").iterdir()) == []
    unconfigured = DataPlane(ModelRepository(repo_root), SessionConfig())
    with pytest.raises(ModelLoadError, match="LAMBDASERVE_MODEL_BUCKET"):
        unconfigured.model("big")
