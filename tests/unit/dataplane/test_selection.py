"""PathSelector: the version or label the caller named, else the model's default."""

from __future__ import annotations

import pytest

from lambdaserve.dataplane import DataPlane, PathSelector, RequestContext
from lambdaserve.errors import ModelNotFound
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY


@pytest.fixture(scope="module")
def selector() -> PathSelector:
    return PathSelector(DataPlane(ModelRepository(SOURCE_MODEL_REPOSITORY)).resolve)


@pytest.mark.parametrize(
    ("version", "label", "expected"),
    [
        (None, None, "1"),
        ("2", None, "2"),
        ("1", None, "1"),
        (None, "canary", "2"),
        (None, "stable", "1"),
    ],
)
def test_named_version_or_label_else_default(
    selector: PathSelector, version: str | None, label: str | None, expected: str
) -> None:
    assert selector(RequestContext("breast_cancer", version, label)) == expected


def test_reads_no_request_headers(selector: PathSelector) -> None:
    assert selector.headers == ()
    ctx = RequestContext("breast_cancer", attributes={"x-user-id": "someone"})
    assert selector(ctx) == "1"


@pytest.mark.parametrize(
    ("name", "version", "label", "message"),
    [
        ("breast_cancer", "3", None, "has no version '3'"),
        ("breast_cancer", None, "beta", "has no version label 'beta'"),
        ("nope", None, None, "model 'nope' not found"),
    ],
)
def test_unknown_names_are_404(
    selector: PathSelector, name: str, version: str | None, label: str | None, message: str
) -> None:
    with pytest.raises(ModelNotFound, match=message):
        selector(RequestContext(name, version, label))
