from __future__ import annotations

import json
import time
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.stub import Stubber
from emf_spec import emf_records, metric_names
from moto import mock_aws

from lambdaserve.errors import InvalidInput, ModelNotFound
from lambdaserve.observability import emf
from lambdaserve.observability.feedback import (
    MAX_ITEMS,
    FeedbackDisabled,
    FeedbackService,
    FeedbackUnavailable,
    Judgement,
    PredictionStore,
    StoredPrediction,
    _dynamodb_client,
    judge,
    parse_feedback,
    quality_documents,
)

IRIS_LABELS = ("setosa", "versicolor", "virginica")
TABLE = "lambdaserve-feedback-test"  # the conftest fixture's table


def _stored(task: str, predictions: list[Any], version: str = "1") -> StoredPrediction:
    return StoredPrediction("id-1", "iris", version, task, predictions, int(time.time()) + 60)


def test_store_round_trips_predictions_with_a_ttl(feedback_table: str) -> None:
    store = PredictionStore(feedback_table, ttl_seconds=3600, write_timeout_seconds=0.25)
    store.put("a", "iris", "1", "classification", [0, 2])
    store.put("b", "diabetes", "1", "regression", [151.5])
    found = store.get_many(["a", "b", "missing", "a"])
    assert set(found) == {"a", "b"}
    assert found["a"].predictions == [0, 2] and found["a"].task == "classification"
    assert found["b"] == StoredPrediction(
        "b", "diabetes", "1", "regression", [151.5], found["b"].expires_at
    )
    assert 3590 < found["a"].expires_at - time.time() <= 3600
    item = boto3.client("dynamodb").get_item(
        TableName=feedback_table, Key={"inference_id": {"S": "a"}}
    )["Item"]
    assert set(item) == {"inference_id", "model", "version", "task", "predictions", "expires_at"}


def test_expired_predictions_are_not_found_even_before_ttl_deletes_them(
    feedback_table: str,
) -> None:
    PredictionStore(feedback_table, ttl_seconds=-1, write_timeout_seconds=0.25).put(
        "old", "iris", "1", "classification", [1]
    )
    assert PredictionStore(feedback_table, 3600, 0.25).get_many(["old"]) == {}


def test_more_than_one_batch_of_ids_is_read(feedback_table: str) -> None:
    store = PredictionStore(feedback_table, 3600, 0.25)
    for i in range(130):
        store.put(f"id-{i}", "iris", "1", "classification", [i % 3])
    found = store.get_many([f"id-{i}" for i in range(130)])
    assert len(found) == 130 and found["id-129"].predictions == [0]


def test_writes_are_bounded_one_attempt_and_short_timeouts(aws_env: None) -> None:
    client = _dynamodb_client(0.25)
    config = client.meta.config
    assert (config.connect_timeout, config.read_timeout) == (0.25, 0.25)
    assert config.retries["total_max_attempts"] == 1


def test_a_missing_table_raises_for_the_caller_to_log(feedback_table: str) -> None:
    store = PredictionStore("no-such-table", 3600, 0.25)
    with pytest.raises(botocore.exceptions.ClientError):
        store.put("a", "iris", "1", "classification", [0])


def test_a_table_that_keeps_throttling_is_a_503(aws_env: None) -> None:
    # moto cannot throttle; botocore's own Stubber plays the table's answer to a real client.
    client = _dynamodb_client(None)
    keys = {TABLE: {"Keys": [{"inference_id": {"S": "a"}}], "ConsistentRead": True}}
    with Stubber(client) as stub:
        for _ in range(5):
            stub.add_response(
                "batch_get_item",
                {"Responses": {}, "UnprocessedKeys": keys},
                {"RequestItems": keys},
            )
        store = PredictionStore(TABLE, 3600, 0.25, client_factory=lambda _timeout: client)
        with pytest.raises(FeedbackUnavailable) as caught:
            store.get_many(["a"])
        stub.assert_no_pending_responses()
    assert caught.value.status == 503


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        ({"inference_id": "a", "actual": 1}, [("a", 1)]),
        (
            [{"inference_id": "a", "actual": "setosa"}, {"inference_id": "b", "actual": [1, 2]}],
            [("a", "setosa"), ("b", [1, 2])],
        ),
    ],
)
def test_parse_feedback_takes_one_or_many(body: Any, pairs: list[tuple[str, Any]]) -> None:
    assert parse_feedback(body) == pairs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "non-empty"),
        ({"inference_id": "a"}, "'inference_id' and 'actual'"),
        ({"actual": 1}, "'inference_id' and 'actual'"),
        ("a", "'inference_id' and 'actual'"),
        ({"inference_id": 7, "actual": 1}, "string"),
        ({"inference_id": "", "actual": 1}, "string"),
        ({"inference_id": "x" * 257, "actual": 1}, "string"),
        ([{"inference_id": "a", "actual": 1}, 5], "entry 1"),
        ([{"inference_id": str(i), "actual": 1} for i in range(MAX_ITEMS + 1)], "at most"),
    ],
)
def test_parse_feedback_refuses_bad_bodies(body: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_feedback(body)


def test_classifier_judgement_takes_class_values_or_label_names() -> None:
    stored = _stored("classification", [0, 2, 1])
    assert judge(stored, [0, "virginica", 2], IRIS_LABELS).correct == [1, 1, 0]
    assert judge(_stored("classification", [2]), "virginica", IRIS_LABELS).correct == [1]
    assert judge(_stored("classification", [2]), [1], IRIS_LABELS).correct == [0]


@pytest.mark.parametrize("actual", [1.0, True, None, "daisy", {"class": 1}, [[1]]])
def test_a_wrong_label_type_for_a_classifier_is_a_400(actual: Any) -> None:
    with pytest.raises(InvalidInput, match="class value"):
        judge(_stored("classification", [1]), actual, IRIS_LABELS)


def test_regressor_judgement_is_the_absolute_error_per_row() -> None:
    assert judge(_stored("regression", [150.0, 90.5]), [140, 100.5], None).errors == [10.0, 10.0]
    assert judge(_stored("regression", [150.0]), 151.25, None).errors == [1.25]
    multi = _stored("regression", [[1.0, 2.0]])
    assert judge(multi, [1.5, 1.0], None).errors == [0.75]


@pytest.mark.parametrize("actual", ["151", True, None, float("nan"), [1, "x"]])
def test_a_wrong_label_type_for_a_regressor_is_a_400(actual: Any) -> None:
    with pytest.raises(InvalidInput, match="number"):
        judge(
            _stored("regression", [150.0, 1.0] if isinstance(actual, list) else [150.0]),
            actual,
            None,
        )


def test_row_counts_must_match_the_prediction() -> None:
    with pytest.raises(InvalidInput, match="predicted 2 row"):
        judge(_stored("classification", [0, 1]), [0], IRIS_LABELS)
    with pytest.raises(InvalidInput, match="predicted 2 row"):
        judge(_stored("classification", [0, 1]), 0, IRIS_LABELS)


def test_quality_documents_are_per_version_emf(capsys: pytest.CaptureFixture[str]) -> None:
    judgements = [
        Judgement("a", "1", correct=[1, 0]),
        Judgement("b", "2", correct=[1]),
        Judgement("c", "1", correct=[1]),
    ]
    for doc in quality_documents("breast_cancer", judgements):
        print(emf.dumps(doc))
    docs = emf_records(capsys.readouterr().out)
    by_version: dict[str, dict[str, Any]] = {}
    for doc in docs:
        assert doc["model"] == "breast_cancer"
        for name in metric_names(doc):
            by_version.setdefault(doc["version"], {})[name] = doc[name]
    assert by_version == {
        "1": {"Feedback": 3.0, "PredictionCorrect": [1.0, 0.0, 1.0]},
        "2": {"Feedback": 1.0, "PredictionCorrect": [1.0]},
    }


def test_regressor_quality_is_absolute_error_and_many_rows_split(
    capsys: pytest.CaptureFixture[str],
) -> None:
    judgements = [Judgement(f"r{i}", "1", errors=[float(i)]) for i in range(250)]
    docs = [json.loads(emf.dumps(d)) for d in quality_documents("diabetes", judgements)]
    series = [d for d in docs if "AbsoluteError" in d]
    assert [len(d["AbsoluteError"]) for d in series] == [100, 100, 50]
    assert sum(v for d in series for v in d["AbsoluteError"]) == sum(range(250))
    [count] = [d for d in docs if "Feedback" in d]
    assert count["Feedback"] == 250.0 and len(count["inference_ids"]) == 250


def test_judgement_json_reports_accuracy_or_mean_error() -> None:
    assert Judgement("a", "1", correct=[1, 0, 1, 1]).to_json() == {
        "inference_id": "a",
        "version": "1",
        "rows": 4,
        "correct": 3,
        "accuracy": 0.75,
    }
    assert Judgement("b", "1", errors=[1.0, 3.0]).to_json() == {
        "inference_id": "b",
        "version": "1",
        "rows": 2,
        "mean_absolute_error": 2.0,
    }


def _service(store: PredictionStore | None, lines: list[str]) -> FeedbackService:
    labels = {"1": IRIS_LABELS, "2": IRIS_LABELS}
    return FeedbackService("iris", store, labels.get, lines.append)


def test_service_judges_stored_predictions_and_emits_per_version(feedback_table: str) -> None:
    store = PredictionStore(feedback_table, 3600, 0.25)
    store.put("a", "iris", "1", "classification", [0, 1])
    store.put("b", "iris", "2", "classification", [2])
    lines: list[str] = []
    answer = _service(store, lines)(
        [{"inference_id": "a", "actual": ["setosa", 2]}, {"inference_id": "b", "actual": 2}]
    )
    assert answer == {
        "model": "iris",
        "results": [
            {"inference_id": "a", "version": "1", "rows": 2, "correct": 1, "accuracy": 0.5},
            {"inference_id": "b", "version": "2", "rows": 1, "correct": 1, "accuracy": 1.0},
        ],
    }
    docs = emf_records("\n".join(lines))
    correct = {d["version"]: d["PredictionCorrect"] for d in docs if "PredictionCorrect" in d}
    assert correct == {"1": [1.0, 0.0], "2": [1.0]}


def test_service_refuses_unknown_ids_and_other_models_ids_with_404(feedback_table: str) -> None:
    store = PredictionStore(feedback_table, 3600, 0.25)
    store.put("mine", "iris", "1", "classification", [0])
    store.put("theirs", "digits", "1", "classification", [7])
    lines: list[str] = []
    for unknown in ("nope", "theirs"):
        with pytest.raises(ModelNotFound, match=unknown) as caught:
            _service(store, lines)(
                [{"inference_id": "mine", "actual": 0}, {"inference_id": unknown, "actual": 0}]
            )
        assert caught.value.status == 404
    assert lines == []  # all or nothing: no metric for a request that failed


def test_service_refuses_a_wrong_label_type_with_400_and_emits_nothing(
    feedback_table: str,
) -> None:
    store = PredictionStore(feedback_table, 3600, 0.25)
    store.put("a", "iris", "1", "classification", [0])
    lines: list[str] = []
    with pytest.raises(InvalidInput) as caught:
        _service(store, lines)({"inference_id": "a", "actual": 0.5})
    assert caught.value.status == 400 and lines == []


def test_service_without_a_table_says_feedback_is_off() -> None:
    with pytest.raises(FeedbackDisabled, match="FeedbackEnabled=true") as caught:
        _service(None, [])({"inference_id": "a", "actual": 0})
    assert caught.value.status == 404


def test_service_turns_a_table_failure_into_503(aws_env: None) -> None:
    with mock_aws():  # no table was created
        store = PredictionStore("missing-table", 3600, 0.25)
        with pytest.raises(FeedbackUnavailable) as caught:
            _service(store, [])({"inference_id": "a", "actual": 0})
    assert caught.value.status == 503
