"""Which versions a model's traffic.json names (issue 12's policy beside labels.json).

`{"split": {"1": 90, "stable": 10}, "shadow": {"version": "2", ...}}`: split keys and the
shadow's version are versions or labels. Only read here, to refuse removing a version the
policy still sends traffic to and to let `check` catch dangling names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lambdaserve.modelkit.errors import ModelKitError

FILE = "traffic.json"


def names_in(policy: Any, where: Path) -> list[str]:
    """Every version or label the policy names."""
    if not isinstance(policy, dict):
        raise ModelKitError(f"{where} is not a JSON object")
    names: list[str] = []
    split = policy.get("split", {})
    if not isinstance(split, dict):
        raise ModelKitError(f"{where}: 'split' must map versions or labels to weights")
    names += [str(k) for k in split]
    shadow = policy.get("shadow")
    if shadow is not None:
        if not isinstance(shadow, dict) or "version" not in shadow:
            raise ModelKitError(f"{where}: 'shadow' must be an object with a 'version'")
        names.append(str(shadow["version"]))
    return names


def read(directory: Path) -> list[str] | None:
    """The names in `<model>/traffic.json`, or None when the model has no policy."""
    path = directory / FILE
    if not path.is_file():
        return None
    try:
        policy = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelKitError(f"{path} is not valid JSON: {exc}") from None
    return names_in(policy, path)


def versions_named(directory: Path, labels: dict[str, str]) -> set[str]:
    """The versions the policy reaches, labels resolved."""
    return {labels.get(n, n) for n in read(directory) or []}
