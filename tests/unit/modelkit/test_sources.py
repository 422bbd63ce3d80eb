"""Source dispatch: LightGBM text models, ONNX metadata, and PyTorch where torch exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.sources import load_source


def test_a_lightgbm_text_model_converts_and_answers_like_its_booster(
    sources: dict[str, Any], tmp_path: Path
) -> None:
    _, model, data = sources["lightgbm"]
    path = tmp_path / "model.txt"
    model.booster_.save_model(str(path))
    source = load_source(path)
    assert source.task == "classification" and [o.name for o in source.model.graph.output] == [
        "label",
        "probabilities",
    ]
    assert source.reference is not None
    expected = source.reference({"input": data[:5].astype(np.float32)})
    np.testing.assert_allclose(
        expected["probabilities"], model.predict_proba(data[:5].astype(np.float32)), atol=1e-9
    )


def test_a_missing_source_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ModelKitError, match="source not found"):
        load_source(tmp_path / "nothing.onnx")


def test_pytorch_modules_are_exported_when_torch_is_installed(
    project: Project, tmp_path: Path, serve: Any
) -> None:
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    path = tmp_path / "net.pt"
    torch.save(module, path)
    add_model(project, AddOptions("net", path), lambda _: None)
    import json

    event = json.loads((project.events / "net_predict.json").read_text())
    body = json.loads(serve(project, "net")(event, None)["body"])
    row = torch.tensor([json.loads(event["body"])["features"]], dtype=torch.float32)
    assert body["prediction"] == pytest.approx(float(module(row)[0, 0]), rel=1e-5)
