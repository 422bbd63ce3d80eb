"""traffic.json's schema: what parses, how labels resolve, and that every mistake is named."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.traffic.policy import (
    ShadowPolicy,
    TrafficPolicy,
    TrafficPolicyError,
    default_policy,
    parse_policy,
)

VERSIONS = ["1", "2", "3"]
LABELS = {"stable": "1", "canary": "2"}


def parse(raw: Any) -> TrafficPolicy:
    return parse_policy("m", raw, VERSIONS, LABELS, default_version="1")


def test_the_issue_example_parses_and_resolves_labels() -> None:
    policy = parse(
        {
            "split": {"stable": 90, "canary": 10},
            "sticky_header": "X-User-Id",
            "shadow": {"version": "3", "percent": 25.5, "timeout_ms": 80},
        }
    )
    assert policy == TrafficPolicy(
        "m", (("1", 90.0), ("2", 10.0)), "x-user-id", ShadowPolicy("3", 25.5, 80)
    )
    assert policy.to_json() == {
        "split": {"1": 90.0, "2": 10.0},
        "sticky_header": "x-user-id",
        "shadow": {"version": "3", "percent": 25.5, "timeout_ms": 80},
    }


def test_every_field_is_optional() -> None:
    assert parse({}) == default_policy("m", "1")
    only_shadow = parse({"shadow": {"version": "canary"}})
    assert only_shadow.split == (("1", 1.0),)
    assert only_shadow.shadow == ShadowPolicy("2", 100.0, 50)


def test_zero_weights_are_allowed_when_the_total_is_positive() -> None:
    assert parse({"split": {"1": 0, "2": 1}}).split == (("1", 0.0), ("2", 1.0))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ([1, 2], "must be a JSON object"),
        ({"splt": {"1": 1}}, r"unknown fields \['splt'\]"),
        ({"split": {}}, "split must be a non-empty object"),
        ({"split": [["1", 100]]}, "split must be a non-empty object"),
        ({"split": {"7": 100}}, "'7', which is neither a version nor a label"),
        ({"split": {"beta": 100}}, "'beta', which is neither a version nor a label"),
        ({"split": {"1": 50, "stable": 50}}, "names version 1 twice"),
        ({"split": {"1": "90"}}, "split weight of '1' must be a number"),
        ({"split": {"1": True}}, "split weight of '1' must be a number"),
        ({"split": {"1": -1, "2": 5}}, "must be a finite number >= 0"),
        ({"split": {"1": 0, "2": 0}}, "positive total"),
        ({"sticky_header": "x user"}, "sticky_header must be a header name"),
        ({"sticky_header": 7}, "sticky_header must be a header name"),
        ({"shadow": "2"}, "shadow must be an object"),
        ({"shadow": {"percent": 5}}, "shadow needs a version"),
        ({"shadow": {"version": "9"}}, "shadow version names '9'"),
        ({"shadow": {"version": "2", "percent": 101}}, "at most 100"),
        ({"shadow": {"version": "2", "percent": None}}, "shadow percent must be a number"),
        ({"shadow": {"version": "2", "timeout_ms": 0}}, "timeout_ms must be an integer"),
        ({"shadow": {"version": "2", "timeout_ms": 2.5}}, "timeout_ms must be an integer"),
        ({"shadow": {"version": "2", "timeout_ms": 10_001}}, "timeout_ms must be an integer"),
        ({"shadow": {"version": "2", "wait": 1}}, r"unknown shadow fields \['wait'\]"),
    ],
)
def test_mistakes_are_named(raw: Any, problem: str) -> None:
    with pytest.raises(TrafficPolicyError, match=problem) as caught:
        parse(raw)
    assert caught.value.message.startswith("traffic.json of model 'm': ")
    assert caught.value.status == 500  # a broken repository, not the caller's mistake


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


@given(JSON)
def test_any_json_either_parses_or_is_a_named_error(raw: Any) -> None:
    for candidate in (raw, {"split": raw}, {"shadow": raw}, {"split": {"1": raw}}):
        try:
            policy = parse(candidate)
        except TrafficPolicyError:
            continue
        assert all(version in VERSIONS for version, _ in policy.split)
