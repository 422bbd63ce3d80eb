"""API Gateway HTTP API route selection, so a request reaches the function it reaches in AWS.

Rules (API Gateway developer guide, "Routing API requests"): the most specific path wins,
segment by segment (literal, then `{param}`, then greedy `{proxy+}`, which must be last and
matches one or more segments); for the same path an explicit method beats `ANY`; `$default`
catches whatever nothing else matches. Path parameters are URL-decoded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template import HttpRoute

LITERAL, PARAM, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Compiled:
    route: HttpRoute
    segments: tuple[tuple[int, str], ...]  # (kind, literal text or parameter name)

    @property
    def rank(self) -> tuple[tuple[int, ...], int]:
        return tuple(kind for kind, _ in self.segments), int(self.route.method == "ANY")


def _compile(route: HttpRoute) -> _Compiled:
    if not route.path.startswith("/"):
        raise LocalError(f"{route.function}: route path {route.path!r} must start with '/'")
    parts = route.path.strip("/").split("/") if route.path != "/" else []
    segments: list[tuple[int, str]] = []
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("+}"):
            if i != len(parts) - 1:
                raise LocalError(f"{route.key}: a greedy {part} must be the last segment")
            segments.append((GREEDY, part[1:-2]))
        elif part.startswith("{") and part.endswith("}"):
            segments.append((PARAM, part[1:-1]))
        else:
            segments.append((LITERAL, part))
    return _Compiled(route, tuple(segments))


def _match(compiled: _Compiled, parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    for i, (kind, text) in enumerate(compiled.segments):
        if kind == GREEDY:
            rest = parts[i:]
            if not rest or rest == [""]:
                return None
            params[text] = unquote("/".join(rest))
            return params
        if i >= len(parts):
            return None
        if kind == LITERAL and parts[i] != text:
            return None
        if kind == PARAM:
            if not parts[i]:
                return None
            params[text] = unquote(parts[i])
    return params if len(parts) == len(compiled.segments) else None


class RouteTable:
    """All routes of the API; `match` picks the one API Gateway would pick."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        compiled: list[_Compiled] = []
        self.default: HttpRoute | None = None
        seen: dict[str, str] = {}
        for route in routes:
            if route.key in seen and seen[route.key] != route.function:
                raise LocalError(
                    f"route {route.key} is declared by both {seen[route.key]} and {route.function}"
                )
            seen[route.key] = route.function
            if route.path == "$default":
                self.default = route
            else:
                compiled.append(_compile(route))
        self._routes = sorted(compiled, key=lambda c: c.rank)

    def __len__(self) -> int:
        return len(self._routes) + (self.default is not None)

    def match(self, method: str, path: str) -> RouteMatch | None:
        method = method.upper()
        parts = path.strip("/").split("/") if path not in ("", "/") else []
        for compiled in self._routes:
            if compiled.route.method not in (method, "ANY"):
                continue
            params = _match(compiled, parts)
            if params is not None:
                return RouteMatch(compiled.route, params)
        return RouteMatch(self.default, {}) if self.default else None
