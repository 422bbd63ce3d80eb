"""Version selection: which version of the model answers this request or job.

A selector has `headers` (the request headers it reads, lower-case) and
`__call__(ctx) -> str`, the concrete version to use. It sees the version or label the
caller named (`ctx.version`, `ctx.label`) and the request attributes (`ctx.attributes`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from lambdaserve.dataplane.context import RequestContext

Resolve = Callable[[str, str | None, str | None], str]


class Selector(Protocol):
    headers: tuple[str, ...]

    def __call__(self, ctx: RequestContext) -> str: ...


class PathSelector:
    """The version the caller named, else the model's default (`stable` label, else newest)."""

    headers: tuple[str, ...] = ()

    def __init__(self, resolve: Resolve) -> None:
        self._resolve = resolve

    def __call__(self, ctx: RequestContext) -> str:
        return self._resolve(ctx.model, ctx.version, ctx.label)
