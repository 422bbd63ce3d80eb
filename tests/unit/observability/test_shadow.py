from __future__ import annotations

import json

import numpy as np
import pytest
from emf_spec import emf_records, metric_names

from lambdaserve.observability.shadow import (
    COMPARED,
    ERROR,
    TIMEOUT,
    ShadowOutcome,
    compare,
    record_shadow,
)


def test_classifier_agreement_is_the_fraction_of_matching_classes() -> None:
    primary = {"label": np.array([0, 1, 1, 2]), "probabilities": np.zeros((4, 3), np.float32)}
    shadow = {"label": np.array([0, 1, 2, 2]), "probabilities": np.zeros((4, 3), np.float32)}
    outcome = compare(primary, shadow, classifier=True, version="2", seconds=0.004)
    assert outcome == ShadowOutcome("2", COMPARED, agreement=0.75, seconds=0.004)


def test_classes_come_from_scores_when_there_is_no_label_output() -> None:
    primary = {"scores": np.array([[0.9, 0.1], [0.2, 0.8]], np.float32)}
    shadow = {"scores": np.array([[0.6, 0.4], [0.7, 0.3]], np.float32)}
    assert compare(primary, shadow, classifier=True, version="2").agreement == 0.5


def test_regressor_difference_is_the_mean_absolute_difference() -> None:
    primary = {"prediction": np.array([[100.0], [200.0]], np.float32)}
    shadow = {"prediction": np.array([[110.0], [190.0]], np.float32)}
    outcome = compare(primary, shadow, classifier=False, version="3")
    assert outcome.status == COMPARED and outcome.absolute_difference == pytest.approx(10.0)


def test_answers_of_different_shapes_are_an_error_not_a_comparison() -> None:
    outcome = compare(
        {"label": np.array([0, 1])}, {"label": np.array([0])}, classifier=True, version="2"
    )
    assert outcome.status == ERROR and outcome.agreement is None


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            ShadowOutcome("2", COMPARED, agreement=1.0, seconds=0.003),
            {
                "ShadowComparisons": 1,
                "ShadowErrors": 0,
                "ShadowTimeouts": 0,
                "ShadowAgreement": 1.0,
                "ShadowLatency": 3.0,
            },
        ),
        (
            ShadowOutcome("2", COMPARED, absolute_difference=2.5),
            {
                "ShadowComparisons": 1,
                "ShadowErrors": 0,
                "ShadowTimeouts": 0,
                "ShadowAbsoluteDifference": 2.5,
            },
        ),
        (
            ShadowOutcome("2", TIMEOUT),
            {"ShadowComparisons": 1, "ShadowErrors": 0, "ShadowTimeouts": 1},
        ),
        (
            ShadowOutcome("2", ERROR, error="boom"),
            {"ShadowComparisons": 1, "ShadowErrors": 1, "ShadowTimeouts": 0},
        ),
    ],
)
def test_record_shadow_emits_one_emf_record(outcome: ShadowOutcome, expected: dict) -> None:
    lines: list[str] = []
    record_shadow("breast_cancer", "1", outcome, inference_id="abc", write=lines.append)
    [doc] = emf_records("\n".join(lines))
    assert metric_names(doc) == set(expected)
    assert {k: doc[k] for k in expected} == pytest.approx(expected)
    assert (doc["model"], doc["version"], doc["primary_version"]) == ("breast_cancer", "2", "1")
    assert doc["inference_id"] == "abc" and doc["shadow_status"] == outcome.status
    assert doc["level"] == ("INFO" if outcome.status == COMPARED else "WARNING")
    assert doc.get("error") == outcome.error
    assert json.loads(json.dumps(outcome.to_json()))["version"] == "2"


def test_record_shadow_writes_to_stdout_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    record_shadow("iris", "1", ShadowOutcome("2", COMPARED, agreement=0.0))
    [doc] = emf_records(capsys.readouterr().out)
    assert doc["ShadowAgreement"] == 0.0
