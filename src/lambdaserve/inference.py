"""Neutral request and response types: what every protocol codec decodes to and encodes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class InferenceRequest:
    inputs: dict[str, np.ndarray]
    # Output names to compute; None means all of the model's outputs.
    outputs: tuple[str, ...] | None = None
    id: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InferenceResponse:
    model_name: str
    model_version: str
    outputs: dict[str, np.ndarray]
    id: str | None = None
