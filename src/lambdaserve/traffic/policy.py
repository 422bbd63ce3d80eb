"""The traffic policy of one model: weighted split, sticky header, shadow (traffic.json).

`layers/models/<name>/traffic.json`, beside labels.json, or the same JSON in the runtime
override (an SSM parameter):

    {"split": {"1": 90, "canary": 10}, "sticky_header": "x-user-id",
     "shadow": {"version": "2", "percent": 100, "timeout_ms": 50}}

Keys of `split` are versions or labels; weights are relative (any non-negative numbers with
a positive total). `sticky_header` names the request header whose value pins a caller to a
version; without it assignment is random at the weights. `shadow` scores `percent` of the
requests again with another version, bounded by `timeout_ms`. Every field is optional;
unknown fields are errors, so a typo is never a silent 100% to one version.
Parsing resolves labels to versions against the repository once, so selection never looks
anything up.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.errors import ModelLoadError

FIELDS = frozenset({"split", "sticky_header", "shadow"})
SHADOW_FIELDS = frozenset({"version", "percent", "timeout_ms"})
DEFAULT_SHADOW_PERCENT = 100.0
DEFAULT_SHADOW_TIMEOUT_MS = 50
MAX_SHADOW_TIMEOUT_MS = 10_000
# RFC 9110 token characters: what a header name may contain.
HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")


class TrafficPolicyError(ModelLoadError):
    """traffic.json (or its runtime override) is malformed or names what does not exist."""


@dataclass(frozen=True, slots=True)
class ShadowPolicy:
    version: str  # concrete version
    percent: float  # of requests shadowed, 0-100
    timeout_ms: int  # most latency the shadow may add to a request


@dataclass(frozen=True, slots=True)
class TrafficPolicy:
    """A parsed, resolved policy. `split` maps concrete versions to relative weights."""

    model: str
    split: tuple[tuple[str, float], ...]
    sticky_header: str | None = None
    shadow: ShadowPolicy | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"split": dict(self.split)}
        if self.sticky_header is not None:
            out["sticky_header"] = self.sticky_header
        if self.shadow is not None:
            out["shadow"] = {
                "version": self.shadow.version,
                "percent": self.shadow.percent,
                "timeout_ms": self.shadow.timeout_ms,
            }
        return out


def default_policy(model: str, version: str) -> TrafficPolicy:
    """No traffic.json: every request goes to the default version, no shadow."""
    return TrafficPolicy(model, ((version, 1.0),))


def parse_policy(
    model: str,
    raw: object,
    versions: list[str],
    labels: Mapping[str, str],
    default_version: str,
    where: str = "traffic.json",
) -> TrafficPolicy:
    """Validate decoded JSON and resolve its labels; TrafficPolicyError names any mistake."""

    def fail(problem: str) -> TrafficPolicyError:
        return TrafficPolicyError(f"{where} of model {model!r}: {problem}")

    def concrete(ref: object, field: str) -> str:
        if not isinstance(ref, str) or not ref:
            raise fail(f"{field} must name a version or label, got {ref!r}")
        if ref in versions:
            return ref
        if ref in labels:
            return labels[ref]
        raise fail(f"{field} names {ref!r}, which is neither a version nor a label")

    if not isinstance(raw, dict):
        raise fail("must be a JSON object")
    unknown = sorted(set(raw) - FIELDS)
    if unknown:
        raise fail(f"unknown fields {unknown} (known: {sorted(FIELDS)})")

    split: dict[str, float] = {}
    raw_split = raw.get("split")
    if raw_split is None:
        split[default_version] = 1.0
    else:
        if not isinstance(raw_split, dict) or not raw_split:
            raise fail("split must be a non-empty object of version or label -> weight")
        for ref, weight in raw_split.items():
            version = concrete(ref, f"split key {ref!r}")
            if version in split:
                raise fail(f"split names version {version} twice (as {ref!r} and another key)")
            try:
                split[version] = _weight(weight)
            except ValueError as exc:
                raise fail(f"split weight of {ref!r} {exc}") from None
        if sum(split.values()) <= 0:
            raise fail("split weights must have a positive total")

    sticky = raw.get("sticky_header")
    if sticky is not None and (not isinstance(sticky, str) or not HEADER_NAME.fullmatch(sticky)):
        raise fail(f"sticky_header must be a header name, got {sticky!r}")

    shadow = None
    raw_shadow = raw.get("shadow")
    if raw_shadow is not None:
        if not isinstance(raw_shadow, dict):
            raise fail("shadow must be an object")
        unknown = sorted(set(raw_shadow) - SHADOW_FIELDS)
        if unknown:
            raise fail(f"unknown shadow fields {unknown} (known: {sorted(SHADOW_FIELDS)})")
        if "version" not in raw_shadow:
            raise fail("shadow needs a version")
        try:
            percent = _weight(raw_shadow.get("percent", DEFAULT_SHADOW_PERCENT))
        except ValueError as exc:
            raise fail(f"shadow percent {exc}") from None
        if percent > 100:
            raise fail(f"shadow percent must be at most 100, got {percent}")
        timeout = raw_shadow.get("timeout_ms", DEFAULT_SHADOW_TIMEOUT_MS)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int)
            or not 1 <= timeout <= MAX_SHADOW_TIMEOUT_MS
        ):
            raise fail(f"shadow timeout_ms must be an integer 1..{MAX_SHADOW_TIMEOUT_MS}")
        shadow = ShadowPolicy(concrete(raw_shadow["version"], "shadow version"), percent, timeout)

    return TrafficPolicy(
        model,
        tuple(split.items()),
        sticky.lower() if sticky is not None else None,
        shadow,
    )


def _weight(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a number, got {value!r}")
    weight = float(value)
    if not math.isfinite(weight) or weight < 0:
        raise ValueError(f"must be a finite number >= 0, got {value!r}")
    return weight
