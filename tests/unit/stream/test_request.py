from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.errors import InvalidInput, LambdaserveError, PayloadTooLarge
from lambdaserve.repository import ModelRepository
from lambdaserve.stream import request

IRIS = [5.1, 3.5, 1.4, 0.2]
# Module-level: hypothesis runs a test many times and function fixtures would be shared.
IRIS_MANIFEST = ModelRepository(Path(__file__).resolve().parents[3] / "layers" / "models").manifest(
    "iris", "1"
)


def routed(doc: dict[str, Any]) -> request.Routed:
    return request.route(request.parse_body(orjson.dumps(doc)))


def test_routing_fields_and_rows() -> None:
    r = routed({"model": "iris", "version": 1, "id": 7, "features": IRIS})
    assert (r.model, r.version, r.caller_id, r.single, r.rows) == ("iris", "1", "7", True, IRIS)
    r = routed({"model": "iris", "version": "stable", "instances": [IRIS]})
    assert (r.version, r.caller_id, r.single) == ("stable", None, False)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"features": [1]}', '"model"'),
        (b'{"model": "", "features": [1]}', '"model"'),
        (b'{"model": "iris", "version": true, "features": [1]}', '"version"'),
        (b'{"model": "iris", "id": {"a": 1}, "features": [1]}', '"id"'),
        (b'{"model": "iris", "id": true, "features": [1]}', '"id"'),
        (b'{"model": "iris", "version": "", "features": [1]}', '"version"'),
        (b'{"model": "iris"}', "exactly one of"),
        (b'{"model": "iris", "features": [1], "instances": [[1]]}', "exactly one of"),
    ],
)
def test_bad_routing_is_invalid_input(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        request.route(request.parse_body(body))


def test_the_caller_id_is_kept_even_when_routing_fails() -> None:
    doc = request.parse_body(b'{"id": "abc", "features": [1]}')
    assert request.caller_id(doc) == "abc"
    assert request.caller_id({"id": True}) is None


def test_rows_named_or_listed_come_out_in_feature_order(repository: ModelRepository) -> None:
    manifest = repository.manifest("iris", "1")
    named = dict(zip(manifest.feature_names, IRIS, strict=True))
    by_name = request.decode_rows(routed({"model": "iris", "features": named}), manifest, 10)
    by_list = request.decode_rows(
        routed({"model": "iris", "instances": [IRIS, named]}), manifest, 10
    )
    assert by_name.tolist() == [IRIS]
    assert by_list.tolist() == [IRIS, IRIS]


@pytest.mark.parametrize(
    ("doc", "error", "message"),
    [
        ({"model": "iris", "features": [1.0, 2.0]}, InvalidInput, "expects 4 features per row"),
        (
            {"model": "iris", "instances": [[1.0, 2.0, 3.0, 4.0], [1.0]]},
            InvalidInput,
            "same length",
        ),
        ({"model": "iris", "features": [1, "a", 3, 4]}, InvalidInput, "numbers"),
        ({"model": "iris", "features": []}, InvalidInput, "non-empty"),
        ({"model": "iris", "instances": []}, InvalidInput, "non-empty"),
        ({"model": "iris", "features": {"petal": 1}}, InvalidInput, "unknown feature"),
        ({"model": "iris", "instances": [IRIS] * 3}, PayloadTooLarge, "one message may carry 2"),
    ],
)
def test_bad_rows_are_refused(
    repository: ModelRepository, doc: dict[str, Any], error: type[Exception], message: str
) -> None:
    manifest = repository.manifest("iris", "1")
    with pytest.raises(error, match=message):
        request.decode_rows(routed(doc), manifest, max_rows=2)


JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "model": st.sampled_from(["iris", "", 3]) | JSON,
        "version": st.sampled_from(["1", "stable", 1]) | JSON,
        "id": JSON,
        "features": JSON,
        "instances": JSON,
    },
)


@given(FIELDS)
def test_any_message_is_decoded_or_refused_with_a_client_error(doc: dict[str, Any]) -> None:
    try:
        rows = request.decode_rows(request.route(doc), IRIS_MANIFEST, 100)
    except LambdaserveError as exc:
        assert 400 <= exc.status < 500
    else:
        assert rows.ndim == 2 and rows.shape[1] == 4
