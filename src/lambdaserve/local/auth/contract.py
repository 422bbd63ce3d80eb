"""What the gateway hands an authorizer (a routed request) and what it gets back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.events import HttpResponse
from lambdaserve.local.routes import RouteMatch


@dataclass(frozen=True)
class GatewayRequest:
    """A routed request, as an authorizer sees it."""

    method: str
    raw_path: str
    raw_query: str
    headers: list[tuple[str, str]]
    body: bytes
    match: RouteMatch


@dataclass(frozen=True)
class Decision:
    """An authorizer's answer: a refusal to send, or the context for the function."""

    refusal: HttpResponse | None = None
    context: Mapping[str, Any] | None = None


Authorizer = Callable[[GatewayRequest], Decision]
