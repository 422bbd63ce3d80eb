"""SAM's Globals merge rules."""

from __future__ import annotations

from lambdaserve.local.template import sam_globals


def test_maps_merge_lists_append_scalars_replace() -> None:
    globals_ = {"Timeout": 3, "Layers": ["A"], "Environment": {"Variables": {"X": "1", "Y": "1"}}}
    props = {"Timeout": 9, "Layers": ["B"], "Environment": {"Variables": {"Y": "2"}}}
    assert sam_globals.merge(globals_, props) == {
        "Timeout": 9,
        "Layers": ["A", "B"],
        "Environment": {"Variables": {"X": "1", "Y": "2"}},
    }
    assert globals_["Layers"] == ["A"]  # the Globals themselves are left alone


def test_function_globals_section() -> None:
    assert sam_globals.function_globals({"Globals": {"Function": {"Timeout": 5}}}) == {"Timeout": 5}
    assert sam_globals.function_globals({"Globals": {"Api": {}}}) == {}
    assert sam_globals.function_globals({}) == {}
