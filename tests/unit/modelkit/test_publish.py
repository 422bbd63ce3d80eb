"""add-model --store s3 and publish-models on moto: out of the layer, into the bucket, served."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambdaserve.local import template
from lambdaserve.model_store import file_sha256
from lambdaserve.modelkit.add import AddOptions, add_model, storage_mb
from lambdaserve.modelkit.check import check, layer_bytes
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.publish import publish_models

BUCKET = "lambdaserve-model-store-test"  # the model_store_s3 fixture's (tests/conftest.py)


def _quiet(_: str) -> None:
    pass


@pytest.fixture
def s3(model_store_s3: Any) -> Any:
    return model_store_s3


@pytest.fixture
def stored(project: Project, sources: dict[str, Any]) -> Project:
    path, _, _ = sources["lightgbm"]
    add_model(project, AddOptions("cancer_gbm", path, store="s3"), _quiet)
    return project


def test_an_s3_stored_model_is_wired_to_read_its_own_prefix(stored: Project) -> None:
    doc = json.loads((stored.models / "cancer_gbm" / "1" / "model.json").read_text())
    assert doc["store"] == "s3"
    tpl = template.load(stored.template)
    function = tpl.functions["CancerGbmFunction"]
    assert function.environment["LAMBDASERVE_MODEL_BUCKET"]
    text = stored.template.read_text()
    block = text[text.index("  CancerGbmFunction:") :].split("\n\n")[0]
    assert "Resource: !Sub '${ModelStoreBucket.Arn}/models/cancer_gbm/*'" in block
    assert "Action: s3:GetObject" in block
    assert "ModelStoreBucket.Arn}/models/cancer_gbm/*" not in text.split("  CancerGbmFunction:")[0]
    # The layer ships without the file; check counts the layer as it is built.
    onnx = stored.models / "cancer_gbm" / "1" / "model.onnx"
    assert onnx.is_file()
    assert layer_bytes(stored.models) == sum(
        p.stat().st_size for p in stored.models.rglob("*") if p.is_file() and p != onnx
    )
    assert check(stored).problems == []


def test_storage_is_sized_from_the_model_and_snapstart_dropped_above_512_mb() -> None:
    assert storage_mb(5 * 2**20) == 512
    assert storage_mb(600 * 2**20) == 768 and storage_mb(600 * 2**20) >= 1.1 * 600
    from lambdaserve.modelkit import wiring

    text = (Path(__file__).resolve().parents[3] / "template.yaml").read_text()
    big = wiring.add_model(text, "huge", 4096, "huge", s3_storage_mb=storage_mb(2**30))
    block = big[big.index("  HugeFunction:") :].split("\n\n")[0]
    assert "Size: 1280" in block and "ApplyOn: None" in block
    small = wiring.add_model(text, "small", None, "small", s3_storage_mb=512)
    block = small[small.index("  SmallFunction:") :].split("\n\n")[0]
    assert "Size: !Ref ModelEphemeralStorage" in block and "ApplyOn: !Ref SnapStart" in block


def test_publish_uploads_once_and_the_function_serves_from_the_bucket(
    stored: Project, s3: Any, sources: dict[str, Any], serve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = template.load(stored.template).buckets["ModelStoreBucket"]  # as !Ref names it
    s3.create_bucket(Bucket=bucket)
    lines: list[str] = []
    first = publish_models(stored, bucket, s3, report=lines.append)
    assert first.uploaded == ["models/cancer_gbm/1/model.onnx"] and first.unchanged == []
    onnx = stored.models / "cancer_gbm" / "1" / "model.onnx"
    head = s3.head_object(Bucket=bucket, Key="models/cancer_gbm/1/model.onnx")
    assert head["Metadata"]["sha256"] == file_sha256(onnx)
    again = publish_models(stored, bucket, s3, report=lines.append)
    assert again.uploaded == [] and again.unchanged == first.uploaded

    # The function as deployed: the layer without the file, the bucket in its environment.
    onnx.rename(onnx.with_suffix(".kept"))
    cache = stored.template.parent / "tmp-models"
    monkeypatch.setenv("LAMBDASERVE_MODEL_CACHE_DIR", str(cache))
    handler = serve(stored, "cancer_gbm")
    _, booster, data = sources["lightgbm"]
    event = json.loads((stored.events / "cancer_gbm_predict_instances.json").read_text())
    rows = data[:5].astype(np.float32)
    event["body"] = json.dumps({"instances": rows.tolist()})
    response = handler(event, None)
    assert response["statusCode"] == 200, response["body"]
    got = [p["probabilities"]["1"] for p in json.loads(response["body"])["predictions"]]
    np.testing.assert_allclose(got, booster.predict_proba(rows.astype(np.float64))[:, 1], atol=1e-5)
    assert file_sha256(cache / "cancer_gbm" / "1" / "model.onnx") == head["Metadata"]["sha256"]


def test_publish_refuses_a_file_that_changed_since_add_model(stored: Project, s3: Any) -> None:
    onnx = stored.models / "cancer_gbm" / "1" / "model.onnx"
    onnx.write_bytes(onnx.read_bytes() + b"\0")
    with pytest.raises(ModelKitError, match=r"does not have model.json's sha256"):
        publish_models(stored, BUCKET, s3, report=_quiet)
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_the_layer_build_leaves_s3_stored_files_out(stored: Project, tmp_path: Path) -> None:
    out = tmp_path / "artifacts"
    subprocess.run(
        ["make", "-s", "-C", str(stored.models), "build-ModelsLayer", f"ARTIFACTS_DIR={out}"],
        check=True,
    )
    assert (out / "models" / "cancer_gbm" / "1" / "model.json").is_file()
    assert not (out / "models" / "cancer_gbm" / "1" / "model.onnx").exists()
    assert (out / "models" / "iris" / "1" / "model.onnx").is_file()


def test_make_serve_publishes_s3_stored_models_to_the_local_bucket(
    stored: Project, s3: Any
) -> None:
    from lambdaserve.local.s3 import publish_stored_models

    tpl = template.load(stored.template)
    s3.create_bucket(Bucket=tpl.buckets["ModelStoreBucket"])
    assert publish_stored_models(tpl, s3) == ["models/cancer_gbm/1/model.onnx"]
    listing = s3.list_objects_v2(Bucket=tpl.buckets["ModelStoreBucket"])
    assert [o["Key"] for o in listing["Contents"]] == ["models/cancer_gbm/1/model.onnx"]
