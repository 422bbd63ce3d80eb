"""The traffic policy in force for one model now: runtime override, else traffic.json.

Compiled once per distinct policy (the 10,000-bucket table), so the selector and the
shadow stage only read attributes on the hot path. An override that is malformed or names a
missing version is logged and ignored: the layer's policy stays in force.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lambdaserve.traffic.buckets import bucket_table
from lambdaserve.traffic.override import ParameterOverride
from lambdaserve.traffic.policy import (
    ShadowPolicy,
    TrafficPolicy,
    TrafficPolicyError,
    default_policy,
    parse_policy,
)

if TYPE_CHECKING:
    from lambdaserve.repository import ModelRepository

TRAFFIC_FILE = "traffic.json"

logger = logging.getLogger("lambdaserve.traffic")


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: TrafficPolicy
    table: tuple[str, ...]  # bucket -> version
    sticky_header: str | None
    shadow: ShadowPolicy | None
    origin: str  # "traffic.json", "default" or the override's parameter name

    @classmethod
    def of(cls, policy: TrafficPolicy, origin: str) -> CompiledPolicy:
        return cls(policy, bucket_table(policy.split), policy.sticky_header, policy.shadow, origin)


@dataclass(frozen=True, slots=True)
class RepositoryFacts:
    """What parsing an override needs from the repository, read once at init."""

    versions: list[str]
    labels: Mapping[str, str]
    default_version: str


class PolicySource:
    """Layer policy plus an optional runtime override; `current()` is the one in force."""

    def __init__(
        self,
        base: CompiledPolicy,
        facts: RepositoryFacts,
        override: ParameterOverride | None = None,
    ) -> None:
        self.base = base
        self.facts = facts
        self.override = override
        self._raw: object = None
        self._compiled = base
        if override is not None and not override.background:
            self.current()  # inline reads (tests, scripts): the override is known at once

    def current(self) -> CompiledPolicy:
        if self.override is None:
            return self.base
        raw = self.override.current()
        if raw is not self._raw:
            self._raw = raw
            self._compiled = self._compile(raw)
        return self._compiled

    def _compile(self, raw: object) -> CompiledPolicy:
        assert self.override is not None
        if raw == {}:
            return self.base
        try:
            policy = parse_policy(
                self.base.policy.model,
                raw,
                self.facts.versions,
                self.facts.labels,
                self.facts.default_version,
                where=f"traffic override {self.override.parameter}",
            )
        except TrafficPolicyError as exc:
            logger.error("%s; keeping the policy from %s", exc.message, self.base.origin)
            return self.base
        if policy == self._compiled.policy:
            return self._compiled
        logger.info("traffic policy of %s now %s", policy.model, policy.to_json())
        return CompiledPolicy.of(policy, self.override.parameter)

    def headers(self) -> tuple[str, ...]:
        """Request headers the policies known at init read (the sticky header).

        Starts no read: a background override is not read at init (see override.py).
        """
        names = {self.base.sticky_header, self._compiled.sticky_header}
        return tuple(sorted(n for n in names if n))


def policy_source(
    repository: ModelRepository,
    model: str,
    parameter: str | None = None,
    ttl_seconds: float = 10.0,
    background: bool = True,
) -> PolicySource:
    """The source of one model function: traffic.json (or the default) plus the override.

    Raises TrafficPolicyError at init when traffic.json is malformed: the function refuses
    to start rather than send everything to one version.
    """
    default = repository.resolve(model)
    layer = repository.traffic(model)
    base = (
        CompiledPolicy.of(layer, TRAFFIC_FILE)
        if layer is not None
        else CompiledPolicy.of(default_policy(model, default), "default")
    )
    facts = RepositoryFacts(repository.versions(model), repository.labels(model), default)
    override = (
        ParameterOverride(parameter, ttl_seconds, background=background) if parameter else None
    )
    return PolicySource(base, facts, override)
