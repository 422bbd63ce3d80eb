from __future__ import annotations

from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.errors import LocalError
from lambdaserve.local.routes import RouteTable
from lambdaserve.local.template import HttpRoute

ROOT = Path(__file__).resolve().parents[3]


def table(*routes: tuple[str, str, str]) -> RouteTable:
    return RouteTable(HttpRoute(m, p, f) for m, p, f in routes)


# The example of API Gateway's guide, "Routing API requests".
GUIDE = table(
    ("GET", "/pets/dog/1", "exact"),
    ("GET", "/pets/dog/{id}", "param"),
    ("GET", "/pets/{proxy+}", "greedy"),
    ("ANY", "/{proxy+}", "any"),
)


@pytest.mark.parametrize(
    ("method", "path", "function"),
    [
        ("GET", "/pets/dog/1", "exact"),
        ("GET", "/pets/dog/2", "param"),
        ("GET", "/pets/cat/1", "greedy"),
        ("POST", "/pets/dog/1", "any"),
        ("GET", "/pets", "any"),  # a greedy variable needs at least one segment
    ],
)
def test_most_specific_route_wins(method: str, path: str, function: str) -> None:
    match = GUIDE.match(method, path)
    assert match is not None
    assert match.route.function == function


def test_path_parameters_are_decoded() -> None:
    match = GUIDE.match("GET", "/pets/dog/a%20b")
    assert match is not None and match.path_parameters == {"id": "a b"}
    match = GUIDE.match("GET", "/pets/cat/x/y%2Fz")
    assert match is not None and match.path_parameters == {"proxy": "cat/x/y/z"}


def test_explicit_method_beats_any_and_default_catches_the_rest() -> None:
    routes = table(("GET", "/x", "get"), ("ANY", "/x", "any"), ("ANY", "$default", "default"))
    assert routes.match("GET", "/x").route.function == "get"  # type: ignore[union-attr]
    assert routes.match("DELETE", "/x").route.function == "any"  # type: ignore[union-attr]
    assert routes.match("GET", "/y").route.function == "default"  # type: ignore[union-attr]
    assert table(("GET", "/x", "get")).match("GET", "/y") is None


def test_bad_routes_are_refused() -> None:
    with pytest.raises(LocalError, match="must be the last segment"):
        table(("GET", "/{proxy+}/x", "f"))
    with pytest.raises(LocalError, match="declared by both"):
        table(("GET", "/x", "f"), ("GET", "/x", "g"))


@pytest.fixture(scope="module")
def real() -> RouteTable:
    return RouteTable(template.load(ROOT / "template.yaml").routes)


@pytest.mark.parametrize(
    ("method", "path", "function", "route"),
    [
        ("POST", "/v1/models/iris:predict", "IndexFunction", "ANY /{proxy+}"),
        (
            "POST",
            "/v1/models/iris/versions/1:predict",
            "IrisFunction",
            "ANY /v1/models/iris/{proxy+}",
        ),
        ("GET", "/v1/models/iris", "IrisFunction", "GET /v1/models/iris"),
        ("GET", "/models/iris", "IrisFunction", "GET /models/iris"),
        ("POST", "/models/iris", "IndexFunction", "ANY /{proxy+}"),
        ("POST", "/models/digits/predict", "DigitsFunction", "ANY /models/digits/{proxy+}"),
        ("GET", "/v2/health/ready", "IndexFunction", "GET /v2/health/ready"),
        ("GET", "/models/unknown/predict", "IndexFunction", "ANY /{proxy+}"),
    ],
)
def test_real_template_routes(
    real: RouteTable, method: str, path: str, function: str, route: str
) -> None:
    match = real.match(method, path)
    assert match is not None
    assert (match.route.function, match.route.key) == (function, route)
