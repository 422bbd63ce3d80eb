"""PyTorch modules -> ONNX through torch.onnx, only where torch is installed (optional)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.graph import parse
from lambdaserve.modelkit.sources.base import TARGET_OPSET, Source

SUFFIXES = (".pt", ".pth")


def _width(module: Any) -> int:
    """Input width from the first Linear layer: the only shape a saved module reveals."""
    import torch

    for layer in module.modules():
        if isinstance(layer, torch.nn.Linear):
            return int(layer.in_features)
    raise ModelKitError(
        "cannot tell the PyTorch module's input width: it has no Linear layer; "
        "export it to ONNX yourself (torch.onnx.export) and add the .onnx file"
    )


def load(path: Path) -> Source:
    try:
        import torch
    except ImportError:
        raise ModelKitError(
            f"{path} looks like a PyTorch model, but torch is not installed here"
        ) from None
    try:
        module = torch.load(str(path), weights_only=False, map_location="cpu")
    except Exception as exc:
        raise ModelKitError(f"cannot load {path} with torch.load: {exc}") from None
    if not isinstance(module, torch.nn.Module):
        raise ModelKitError(
            f"{path} holds a {type(module).__name__}, not a torch.nn.Module "
            "(save the whole module with torch.save(module, path))"
        )
    module.eval()
    width = _width(module)
    buffer = io.BytesIO()
    try:
        torch.onnx.export(
            module,
            (torch.zeros(2, width, dtype=torch.float32),),
            buffer,
            input_names=["input"],
            output_names=["prediction"],
            dynamic_axes={"input": {0: "batch"}, "prediction": {0: "batch"}},
            opset_version=TARGET_OPSET[""],
            dynamo=False,
        )
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelKitError(f"torch.onnx cannot export {path}: {reason}") from None

    def predict(feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        with torch.no_grad():
            out = module(torch.from_numpy(np.asarray(feeds["input"], dtype=np.float32)))
        return {"prediction": out.detach().cpu().numpy().astype(np.float64)}

    return Source(
        model=parse(buffer.getvalue(), str(path)),
        task="regression",
        reference=predict,
        info={
            "framework": f"torch {torch.__version__}",
            "estimator": type(module).__name__,
            "converter": "torch.onnx",
        },
    )
