"""The traffic-policy selector: which version answers a request that names none.

A path that names a version or label bypasses the split. Otherwise the sticky header's
value, when the policy has one and the request carries it, picks the bucket by SHA-256;
else the container's seeded generator does. Costs one dict lookup, one hash or draw and one
tuple index per request; the policy's table is precomputed (see `source`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from lambdaserve.traffic import rng
from lambdaserve.traffic.buckets import BUCKETS, sticky_bucket
from lambdaserve.traffic.source import PolicySource

Resolve = Callable[[str, str | None, str | None], str]


class Request(Protocol):
    """What the selector reads of a request (the dataplane's RequestContext has it)."""

    model: str
    version: str | None
    label: str | None
    attributes: Mapping[str, str]


class TrafficSelector:
    def __init__(self, source: PolicySource, resolve: Resolve) -> None:
        self.source = source
        self._resolve = resolve
        self._model = source.base.policy.model
        self._random = rng.generator().random
        self.headers: tuple[str, ...] = source.headers()

    def __call__(self, ctx: Request) -> str:
        if ctx.version is not None or ctx.label is not None or ctx.model != self._model:
            return self._resolve(ctx.model, ctx.version, ctx.label)
        policy = self.source.current()
        header = policy.sticky_header
        if header is not None:
            key = ctx.attributes.get(header)
            if key:
                return policy.table[sticky_bucket(ctx.model, key)]
        return policy.table[int(self._random() * BUCKETS)]
