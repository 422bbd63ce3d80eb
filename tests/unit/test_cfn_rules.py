"""Rules evaluation against hand-written templates: what CloudFormation would refuse."""

from __future__ import annotations

from typing import Any

import pytest

from lambdaserve.cfn_rules import RuleError, Violation, parameter_values, violations

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Mode": {"Type": "String", "Default": "off"},
        "Count": {"Type": "Number", "Default": 0},
        "Sizes": {"Type": "CommaDelimitedList", "Default": ["small", "large"]},
    },
    "Rules": {
        "CountOnlyWhenOn": {
            "RuleCondition": {"Fn::Equals": [{"Ref": "Mode"}, "off"]},
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [{"Ref": "Count"}, "0"]},
                    "AssertDescription": "Count needs Mode on",
                }
            ],
        },
        "KnownSizes": {
            "Assertions": [
                {
                    "Assert": {"Fn::EachMemberIn": [{"Ref": "Sizes"}, ["small", "large"]]},
                    "AssertDescription": "unknown size",
                },
                {
                    "Assert": {
                        "Fn::Or": [
                            {"Fn::Contains": [{"Ref": "Sizes"}, "small"]},
                            {"Fn::Not": [{"Fn::EachMemberEquals": [{"Ref": "Sizes"}, "large"]}]},
                        ]
                    },
                    "AssertDescription": "not only large",
                },
            ]
        },
    },
}


def test_defaults_pass() -> None:
    assert violations(TEMPLATE, {}) == []


def test_a_false_assertion_under_a_true_condition_is_refused() -> None:
    assert violations(TEMPLATE, {"Count": "3"}) == [
        Violation("CountOnlyWhenOn", "Count needs Mode on")
    ]


def test_a_false_rule_condition_skips_the_rule() -> None:
    assert violations(TEMPLATE, {"Mode": "on", "Count": "3"}) == []


def test_list_functions() -> None:
    assert violations(TEMPLATE, {"Sizes": "small,huge"}) == [
        Violation("KnownSizes", "unknown size")
    ]
    assert violations(TEMPLATE, {"Sizes": "large,large"}) == [
        Violation("KnownSizes", "not only large")
    ]
    assert violations(TEMPLATE, {"Sizes": "large"}) == [Violation("KnownSizes", "not only large")]


def test_values_compare_as_cloudformation_strings() -> None:
    values = parameter_values(TEMPLATE, {})
    assert values == {"Mode": "off", "Count": "0", "Sizes": "small,large"}
    unquoted = {
        "Parameters": {"Count": {"Type": "Number", "Default": 0}},
        "Rules": {"R": {"Assertions": [{"Assert": {"Fn::Equals": [{"Ref": "Count"}, 0]}}]}},
    }
    assert violations(unquoted, {}) == [Violation("R", "R")]  # 0 is not the string "0"


def test_unknown_parameters_and_missing_values_are_errors() -> None:
    with pytest.raises(RuleError, match="unknown parameter"):
        violations(TEMPLATE, {"Nope": "1"})
    with pytest.raises(RuleError, match="no default"):
        parameter_values({"Parameters": {"Required": {"Type": "String"}}}, {})


@pytest.mark.parametrize(
    "condition",
    [
        {"Fn::If": ["C", True, False]},
        {"Fn::Equals": [{"Ref": "SomeResource"}, "x"]},
        "plain string",
    ],
)
def test_what_rules_cannot_use_is_an_error(condition: Any) -> None:
    template = {"Parameters": {}, "Rules": {"R": {"Assertions": [{"Assert": condition}]}}}
    with pytest.raises(RuleError):
        violations(template, {})
