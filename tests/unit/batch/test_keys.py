from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdaserve.batch.keys import BadKey, Format, detect_format, is_output, parse_key


def test_model_and_default_version() -> None:
    key = parse_key("incoming/iris/2026/day one.csv")
    assert (key.model, key.version, key.path) == ("iris", None, "2026/day one.csv")
    assert (key.format, key.gzip) == (Format.CSV, False)
    assert key.output == "results/iris/2026/day one.csv"
    assert key.errors == "results/iris/2026/day one.csv.errors.jsonl"
    assert key.summary == "results/iris/2026/day one.csv.summary.json"


def test_explicit_version_segment() -> None:
    key = parse_key("incoming/breast_cancer/v2/batch.jsonl.gz")
    assert (key.model, key.version, key.path) == ("breast_cancer", "2", "batch.jsonl.gz")
    assert (key.format, key.gzip) == (Format.JSONL, True)
    assert key.output == "results/breast_cancer/v2/batch.jsonl.gz"


def test_version_is_normalised_and_only_read_right_after_the_model() -> None:
    assert parse_key("incoming/m/v007/a.csv").version == "7"
    assert parse_key("incoming/m/x/v2/a.csv").version is None
    # A file literally named like a version is a file, not a version.
    assert parse_key("incoming/m/v2").path == "v2"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.csv", (Format.CSV, False)),
        ("a.CSV.GZ", (Format.CSV, True)),
        ("a.jsonl", (Format.JSONL, False)),
        ("a.jsonl.gz", (Format.JSONL, True)),
        ("a.gz", (None, False)),
        ("a.parquet", (None, False)),
        (".csv", (None, False)),
    ],
)
def test_formats(name: str, expected: tuple[Format | None, bool]) -> None:
    assert detect_format(name) == expected


@pytest.mark.parametrize(
    "key", ["results/iris/a.csv", "incoming/a.csv", "incoming//a.csv", "incoming/iris/", "x.csv"]
)
def test_keys_outside_the_layout_are_refused(key: str) -> None:
    with pytest.raises(BadKey):
        parse_key(key)


def test_outputs_never_count_as_inputs() -> None:
    key = parse_key("incoming/iris/a.csv")
    assert all(is_output(k) for k in (key.output, key.errors, key.summary))
    assert not is_output(key.key)


_segment = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=20,
)


@given(
    model=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
    parts=st.lists(_segment, min_size=1, max_size=3),
)
def test_output_keys_mirror_any_input_path(model: str, parts: list[str]) -> None:
    path = "/".join(parts) + ".csv"
    key = parse_key(f"incoming/{model}/{path}")
    assert key.model == model
    assert key.output == f"results/{model}/{path}"
    assert key.summary.startswith(key.output)
