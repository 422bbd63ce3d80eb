"""`Type: HttpApi` events: the API Gateway HTTP API routes a function owns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lambdaserve.local.template.sources import EventContext, source


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi route key (`GET /models/{name}`, `ANY /{proxy+}` or `$default`)."""

    method: str
    path: str
    function: str
    # The route's own Auth.Authorizer (NONE, AWS_IAM or a JWT authorizer's name); None: the
    # API's DefaultAuthorizer guards it.
    auth: str | None = None

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@source("HttpApi")
def parse(props: Mapping[str, Any], event: EventContext) -> HttpRoute:
    path = event.resolver.resolve(props.get("Path"), event.where)
    method = str(event.resolver.resolve(props.get("Method", "ANY"), event.where)).upper()
    if path is None:  # no Path and Method: the API's $default route
        return HttpRoute("ANY", "$default", event.function)
    if method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
        method = "ANY"
    auth = event.resolver.resolve(props.get("Auth"), f"{event.where}.Auth") or {}
    authorizer = auth.get("Authorizer") if isinstance(auth, dict) else None
    return HttpRoute(
        method, str(path), event.function, None if authorizer is None else str(authorizer)
    )
