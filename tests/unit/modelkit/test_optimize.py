"""--optimize / --quantize: measured before and after, refused when accuracy drops too much."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lambdaserve.modelkit import optimize, samples
from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.repository import TensorSpec

FEEDS = samples.generated((TensorSpec("input", "FP32", (-1, 8)),))


def _baseline(data: bytes) -> dict[str, np.ndarray]:
    return optimize._run(data, FEEDS)


@pytest.mark.parametrize(("quantize", "offline"), [("int8", True), ("fp16", False)])
def test_quantizing_a_dense_net_shrinks_it_and_reports_the_measures(
    sources: dict[str, Any], quantize: str, offline: bool
) -> None:
    data = sources["matmul"].read_bytes()
    result = optimize.apply(
        data,
        FEEDS,
        _baseline(data),
        optimize=offline,
        quantize=quantize,
        task="regression",
        max_accuracy_drop=0.2,
        targets=None,
    )
    assert len(result.onnx_bytes) < 0.75 * len(data)  # weights halve (int8: quarter)
    what = f"{quantize}+optimized" if offline else quantize
    assert result.lines[0].startswith(f"{what}: 1 - mean |difference| / std")
    assert "size" in result.lines[1] and "load" in result.lines[1] and "µs" in result.lines[1]
    np.testing.assert_allclose(
        result.outputs["prediction"], _baseline(data)["prediction"], rtol=0.1, atol=0.5
    )


def test_a_result_that_loses_too_much_is_refused(sources: dict[str, Any]) -> None:
    data = sources["matmul"].read_bytes()
    with pytest.raises(ModelKitError, match=r"int8 loses .* above --max-accuracy-drop 1e-09"):
        optimize.apply(
            data,
            FEEDS,
            _baseline(data),
            optimize=False,
            quantize="int8",
            task="regression",
            max_accuracy_drop=1e-9,
            targets=None,
        )


def test_fp16_refuses_graphs_it_cannot_convert(project: Project, sources: dict[str, Any]) -> None:
    with pytest.raises(ModelKitError, match="float16 conversion does not apply to this graph"):
        add_model(project, AddOptions("wine", sources["wine"][0], quantize="fp16"), print)


def test_add_model_with_optimize_keeps_holdout_accuracy(
    project: Project, sources: dict[str, Any]
) -> None:
    lines: list[str] = []
    path = sources["wine"][0]
    added = add_model(
        project,
        AddOptions("wine", path, holdout=path.parent / "wine_holdout.csv", optimize=True),
        lines.append,
    )
    assert any(line.startswith("optimized: holdout accuracy") for line in lines)
    assert added.notes and added.manifest["metrics"]["accuracy"] > 0.9


def test_int8_refuses_graphs_without_weights_to_quantize(project: Project) -> None:
    source = project.models / "breast_cancer" / "2" / "model.onnx"  # a random forest
    with pytest.raises(ModelKitError, match=r"int8 quantization does not apply.*TreeEnsemble"):
        add_model(project, AddOptions("forest", source, quantize="int8"), print)
