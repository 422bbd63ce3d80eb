"""The shipped models are what scripts/train_models.py produces, and ONNX matches scikit-learn."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import train_models  # noqa: E402

RECIPES = {f"{r.name}/{r.version}": r for r in train_models.RECIPES}


@pytest.fixture(scope="module")
def trained() -> dict[str, Any]:
    return {key: train_models.train(recipe) for key, recipe in RECIPES.items()}


def _session(models_dir: Path, key: str) -> ort.InferenceSession:
    return ort.InferenceSession(
        str(models_dir / key / "model.onnx"), providers=["CPUExecutionProvider"]
    )


@pytest.mark.parametrize("key", sorted(RECIPES))
def test_onnx_outputs_equal_the_source_model(
    key: str, trained: dict[str, Any], models_dir: Path
) -> None:
    t = trained[key]
    session = _session(models_dir, key)
    outputs = dict(
        zip(
            [o.name for o in session.get_outputs()],
            session.run(None, {"input": t.X.astype(np.float32)}),
            strict=False,
        )
    )
    if t.recipe.task == "classification":
        expected = t.estimator.predict_proba(t.X)
        np.testing.assert_allclose(outputs["probabilities"], expected, atol=1e-4)
        # Labels agree wherever the decision is not a float32 tie.
        top2 = np.sort(expected, axis=1)[:, -2:]
        clear = (top2[:, 1] - top2[:, 0]) > 1e-4
        assert clear.mean() > 0.95
        np.testing.assert_array_equal(outputs["label"][clear], t.estimator.predict(t.X)[clear])
    else:
        expected = t.estimator.predict(t.X)
        np.testing.assert_allclose(outputs["prediction"][:, 0], expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("key", sorted(RECIPES))
def test_manifest_describes_the_graph_and_the_data(
    key: str, trained: dict[str, Any], models_dir: Path
) -> None:
    manifest = json.loads((models_dir / key / "model.json").read_text())
    onnx_bytes = (models_dir / key / "model.onnx").read_bytes()
    assert manifest["sha256"] == hashlib.sha256(onnx_bytes).hexdigest()
    session = _session(models_dir, key)
    assert [i["name"] for i in manifest["inputs"]] == [i.name for i in session.get_inputs()]
    assert [o["name"] for o in manifest["outputs"]] == [o.name for o in session.get_outputs()]
    t = trained[key]
    assert manifest["feature_names"] == t.feature_names
    assert manifest["inputs"][0]["shape"] == [-1, t.X.shape[1]]
    assert manifest["class_labels"] == t.class_labels
    assert manifest["metrics"] == t.metrics
    assert manifest["source"]["framework"].startswith("scikit-learn ")


def test_breast_cancer_has_two_versions_and_labels(models_dir: Path) -> None:
    labels = json.loads((models_dir / "breast_cancer" / "labels.json").read_text())
    assert labels == {"stable": "1", "canary": "2"}
    v1 = json.loads((models_dir / "breast_cancer" / "1" / "model.json").read_text())
    v2 = json.loads((models_dir / "breast_cancer" / "2" / "model.json").read_text())
    assert "LogisticRegression" in v1["source"]["estimator"]
    assert v2["source"]["estimator"] == "RandomForestClassifier"
