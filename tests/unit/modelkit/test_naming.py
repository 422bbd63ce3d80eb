"""Model names -> template tokens, and token matching that respects CamelCase words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.modelkit import naming
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.repository import NAME_PATTERN


@pytest.mark.parametrize(
    ("name", "function"),
    [
        ("iris", "IrisFunction"),
        ("breast_cancer", "BreastCancerFunction"),
        ("gpt-2.v1", "Gpt2V1Function"),
        ("2fast", "Model2fastFunction"),
    ],
)
def test_function_ids(name: str, function: str) -> None:
    assert naming.function_id(name) == function


@given(st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda n: any(c.isalpha() for c in n)))
def test_every_valid_name_gives_an_alphanumeric_logical_id(name: str) -> None:
    logical_id = naming.function_id(naming.check_name(name))
    assert logical_id.isalnum() and logical_id[0].isupper()


@pytest.mark.parametrize("bad", ["", "../etc", "a b", "_x", "123"])
def test_bad_names_are_refused(bad: str) -> None:
    with pytest.raises(ModelKitError):
        naming.check_name(bad)


def test_token_pattern_matches_whole_camel_words() -> None:
    pattern = naming.token_pattern("Iris")
    assert pattern.search("HasIrisProvisionedConcurrency")
    assert pattern.search("IrisV2Function")  # a word boundary: callers resolve the longer token
    assert not pattern.search("IrisesFunction")
    assert not pattern.search("XIrisFunction")


def test_versions_are_whole_numbers() -> None:
    assert naming.check_version("007") == "7"
    with pytest.raises(ModelKitError):
        naming.check_version("1.2")
