"""Helpers of the modelkit tests: temp project copies, snapshots, small ONNX graphs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import TensorProto, helper

from lambdaserve.modelkit.project import Project

ROOT = Path(__file__).resolve().parents[3]


def copy_project(target: Path) -> Project:
    (target / "layers").mkdir(parents=True)
    shutil.copytree(ROOT / "layers" / "models", target / "layers" / "models")
    shutil.copytree(
        ROOT / "layers" / "runtime",
        target / "layers" / "runtime",
        ignore=shutil.ignore_patterns("python", "__pycache__"),
    )
    shutil.copytree(ROOT / "events" / "api", target / "events" / "api")
    shutil.copytree(ROOT / "functions", target / "functions")
    shutil.copy(ROOT / "template.yaml", target / "template.yaml")
    shutil.copy(ROOT / "samconfig.toml", target / "samconfig.toml")
    return Project.at(target)


def snapshot(project: Project) -> dict[str, bytes]:
    """Every file of the repository, template and events, by path."""
    files = {str(project.template): project.template.read_bytes()}
    for base in (project.models, project.events):
        for path in sorted(base.rglob("*")):
            files[str(path)] = path.read_bytes() if path.is_file() else b"<dir>"
    return files


def frame(rows: Any, like: Any) -> Any:
    """Rows as the source was fitted: a DataFrame when it knows feature names."""
    if isinstance(like, pd.DataFrame):
        return pd.DataFrame(
            np.asarray(rows, dtype=np.float32).astype(np.float64), columns=like.columns
        )
    return np.asarray(rows, dtype=np.float32).astype(np.float64)


def onnx_file(path: Path, op: str, domain: str, opset: int) -> Path:
    node = helper.make_node(op, ["input"], ["prediction"], domain=domain)
    model = helper.make_model(
        helper.make_graph(
            [node],
            "g",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 3])],
            [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 3])],
        ),
        opset_imports=[helper.make_opsetid(domain, opset)]
        + ([helper.make_opsetid("", 17)] if domain else []),
    )
    path.write_bytes(model.SerializeToString())
    return path


def matmul_file(path: Path) -> Path:
    """A small dense net (MatMul + Add + Relu), as neural exporters write them."""
    rng = np.random.default_rng(1)
    w1 = helper.make_tensor("w1", TensorProto.FLOAT, [8, 256], rng.normal(size=2048).tolist())
    w2 = helper.make_tensor("w2", TensorProto.FLOAT, [256, 1], (rng.normal(size=256) / 16).tolist())
    nodes = [
        helper.make_node("MatMul", ["input", "w1"], ["h"]),
        helper.make_node("Relu", ["h"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["prediction"]),
    ]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "dense",
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 8])],
            [helper.make_tensor_value_info("prediction", TensorProto.FLOAT, [None, 1])],
            initializer=[w1, w2],
        ),
        opset_imports=[helper.make_opsetid("", 17)],
    )
    onnx.checker.check_model(model)
    path.write_bytes(model.SerializeToString())
    return path
