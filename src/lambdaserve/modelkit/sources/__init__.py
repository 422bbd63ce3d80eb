"""Turn a SOURCE path into ONNX plus what the source knows, whatever framework made it.

Pickled and joblib files run code when loaded: only add models you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.sources import lightgbm, onnx_file, sklearn, torch
from lambdaserve.modelkit.sources.base import Source

__all__ = ["Source", "load_source"]


def _unpickle(path: Path) -> Any:
    import joblib

    try:
        return joblib.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, IndexError, KeyError) as exc:
        raise ModelKitError(
            f"{path} is not a model: not ONNX, not a LightGBM text model, and not a "
            f"joblib/pickle file ({type(exc).__name__})"
        ) from None
    except (ImportError, AttributeError) as exc:
        raise ModelKitError(f"cannot unpickle {path}: {exc}") from None


def load_source(path: Path) -> Source:
    if not path.is_file():
        raise ModelKitError(f"source not found: {path}")
    suffix = path.suffix.lower()
    if suffix in onnx_file.MAGIC_SUFFIXES:
        return onnx_file.load(path)
    if suffix in torch.SUFFIXES:
        return torch.load(path)
    if lightgbm.is_text_model(path):
        booster = lightgbm.load_text_model(path)
        return lightgbm.convert(booster, str(path))
    obj = _unpickle(path)
    if lightgbm.is_lightgbm(obj):
        return lightgbm.convert(obj, str(path))
    if sklearn.is_sklearn(obj):
        return sklearn.convert(obj, str(path))
    raise ModelKitError(
        f"{path} holds a {type(obj).__module__}.{type(obj).__qualname__}, "
        "not a scikit-learn or LightGBM model"
    )
