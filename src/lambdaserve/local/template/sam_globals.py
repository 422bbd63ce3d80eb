"""SAM's `Globals` section: what every function inherits unless it says otherwise."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def merge(globals_: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's rules: maps merge (the resource wins), lists append, scalars are replaced."""
    merged: dict[str, Any] = dict(globals_)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = merge(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def function_globals(doc: Mapping[str, Any]) -> Mapping[str, Any]:
    """`Globals.Function` of a template document (empty when absent)."""
    section = (doc.get("Globals") or {}).get("Function") or {}
    return section if isinstance(section, dict) else {}
