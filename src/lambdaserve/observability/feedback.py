"""Ground-truth feedback: each prediction kept for a while, later judged against the truth.

When feedback is on (a table name in the settings), every answered prediction is written
to a DynamoDB table under its inference id, with a TTL. `POST /models/{m}/feedback` sends
`{"inference_id", "actual"}` (or a list of them); each is looked up and judged, and the
per-version quality metrics go out as EMF: `PredictionCorrect` (1/0 per row: its Average
is the accuracy) for classifiers, `AbsoluteError` per row for regressors. That is the
metric a canary alarm watches, so a version that predicts worse can be rolled back.

The write is on the request path, so it is bounded: one attempt, short connect and read
timeouts, and a failure is logged and counted (`FeedbackStoreErrors`), never raised to the
caller. The table stores predictions (class values or numbers), never inputs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from lambdaserve import aws_clients
from lambdaserve.errors import InvalidInput, LambdaserveError, ModelNotFound
from lambdaserve.observability import emf, names

MAX_ITEMS = 1000  # feedback entries per call
MAX_ID_LENGTH = 256
_BATCH_GET = 100  # DynamoDB BatchGetItem's limit


class FeedbackUnavailable(LambdaserveError):
    """The feedback table could not be read: our fault, the caller may retry."""

    status = 503


class FeedbackDisabled(LambdaserveError):
    status = 404


@dataclass(frozen=True)
class StoredPrediction:
    inference_id: str
    model: str
    version: str
    task: str
    predictions: list[Any]
    expires_at: int


@dataclass(frozen=True)
class Judgement:
    inference_id: str
    version: str
    correct: list[int] | None = None  # classifiers: 1/0 per row
    errors: list[float] | None = None  # regressors: |prediction - actual| per row

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inference_id": self.inference_id, "version": self.version}
        if self.correct is not None:
            out.update(rows=len(self.correct), correct=sum(self.correct))
            out["accuracy"] = sum(self.correct) / len(self.correct)
        if self.errors is not None:
            out.update(
                rows=len(self.errors), mean_absolute_error=math.fsum(self.errors) / len(self.errors)
            )
        return out


ClientFactory = Callable[[float | None], Any]


def _dynamodb_client(timeout_seconds: float | None) -> Any:
    """A DynamoDB client; with a timeout: one attempt, bounded connect and read."""
    if timeout_seconds is None:
        return aws_clients.patient("dynamodb")
    return aws_clients.bounded("dynamodb", timeout_seconds)


class PredictionStore:
    """The feedback table: predictions by inference id, with a TTL attribute `expires_at`."""

    def __init__(
        self,
        table: str,
        ttl_seconds: int,
        write_timeout_seconds: float,
        client_factory: ClientFactory = _dynamodb_client,
    ) -> None:
        self.table = table
        self.ttl_seconds = ttl_seconds
        self._timeout = write_timeout_seconds
        self._factory = client_factory
        self._writer: Any = None
        self._reader: Any = None

    def connect(self) -> None:
        """Build the bounded writer now (at init), so no request pays for it."""
        if self._writer is None:
            self._writer = self._factory(self._timeout)

    def put(
        self, inference_id: str, model: str, version: str, task: str, predictions: list[Any]
    ) -> None:
        """Store one prediction; raises whatever DynamoDB raised (the caller logs it)."""
        self.connect()
        self._writer.put_item(
            TableName=self.table,
            Item={
                "inference_id": {"S": inference_id},
                "model": {"S": model},
                "version": {"S": version},
                "task": {"S": task},
                "predictions": {"S": orjson.dumps(predictions).decode()},
                "expires_at": {"N": str(int(time.time()) + self.ttl_seconds)},
            },
        )

    def get_many(self, inference_ids: Sequence[str]) -> dict[str, StoredPrediction]:
        """The live (unexpired) predictions among `inference_ids`; consistent reads."""
        if self._reader is None:
            self._reader = self._factory(None)
        found: dict[str, StoredPrediction] = {}
        now = int(time.time())
        unique = list(dict.fromkeys(inference_ids))
        for start in range(0, len(unique), _BATCH_GET):
            keys: list[dict[str, Any]] = [
                {"inference_id": {"S": i}} for i in unique[start : start + _BATCH_GET]
            ]
            for _attempt in range(5):
                reply = self._reader.batch_get_item(
                    RequestItems={self.table: {"Keys": keys, "ConsistentRead": True}}
                )
                for item in reply.get("Responses", {}).get(self.table, []):
                    stored = _parse(item)
                    if stored.expires_at > now:  # TTL deletion lags; expired is expired
                        found[stored.inference_id] = stored
                keys = reply.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
                if not keys:
                    break
                time.sleep(0.05 * (2**_attempt))
            else:
                raise FeedbackUnavailable("the feedback table is throttling; retry later")
        return found


def _parse(item: Mapping[str, Any]) -> StoredPrediction:
    return StoredPrediction(
        inference_id=item["inference_id"]["S"],
        model=item["model"]["S"],
        version=item["version"]["S"],
        task=item["task"]["S"],
        predictions=orjson.loads(item["predictions"]["S"]),
        expires_at=int(item["expires_at"]["N"]),
    )


def parse_feedback(body: Any) -> list[tuple[str, Any]]:
    """(inference_id, actual) pairs from `{"inference_id", "actual"}` or a list of them."""
    entries = body if isinstance(body, list) else [body]
    if not entries:
        raise InvalidInput('send {"inference_id": ..., "actual": ...} or a non-empty list of them')
    if len(entries) > MAX_ITEMS:
        raise InvalidInput(f"at most {MAX_ITEMS} feedback entries per request, got {len(entries)}")
    pairs = []
    for i, entry in enumerate(entries):
        where = f"entry {i}" if isinstance(body, list) else "body"
        if not isinstance(entry, dict) or "inference_id" not in entry or "actual" not in entry:
            raise InvalidInput(f"{where} must be an object with 'inference_id' and 'actual'")
        inference_id = entry["inference_id"]
        if not isinstance(inference_id, str) or not 0 < len(inference_id) <= MAX_ID_LENGTH:
            raise InvalidInput(
                f"{where}: 'inference_id' must be a string of 1..{MAX_ID_LENGTH} characters"
            )
        pairs.append((inference_id, entry["actual"]))
    return pairs


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _class_value(actual: Any, class_labels: Sequence[str] | None, inference_id: str) -> int:
    if isinstance(actual, int) and not isinstance(actual, bool):
        return actual
    if isinstance(actual, str) and class_labels and actual in class_labels:
        return list(class_labels).index(actual)
    known = f" or one of the labels {', '.join(map(repr, class_labels))}" if class_labels else ""
    raise InvalidInput(
        f"inference {inference_id!r}: a classifier's actual must be a class value "
        f"(integer){known}, got {actual!r}"
    )


def judge(stored: StoredPrediction, actual: Any, class_labels: Sequence[str] | None) -> Judgement:
    """Compare one stored prediction with the truth; a wrong label type is a 400."""
    rows = stored.predictions
    actuals = _actual_rows(rows, actual)
    if len(actuals) != len(rows):
        raise InvalidInput(
            f"inference {stored.inference_id!r} predicted {len(rows)} row(s); "
            f"'actual' has {len(actuals)}"
        )
    if stored.task == "classification":
        truth = [_class_value(a, class_labels, stored.inference_id) for a in actuals]
        return Judgement(
            stored.inference_id,
            stored.version,
            correct=[int(p == t) for p, t in zip(rows, truth, strict=True)],
        )
    errors = [
        _absolute_error(p, a, stored.inference_id) for p, a in zip(rows, actuals, strict=True)
    ]
    return Judgement(stored.inference_id, stored.version, errors=errors)


def _actual_rows(rows: list[Any], actual: Any) -> list[Any]:
    """One truth per predicted row: a one-row prediction also takes a bare value."""
    if not isinstance(actual, list):
        return [actual]
    if (
        len(rows) == 1
        and isinstance(rows[0], list)
        and not (actual and isinstance(actual[0], list))
    ):
        return [actual]  # the one row of a multi-output regressor
    return actual


def _absolute_error(predicted: Any, actual: Any, inference_id: str) -> float:
    if isinstance(predicted, list):
        if (
            not isinstance(actual, list)
            or len(actual) != len(predicted)
            or not all(map(_is_number, actual))
        ):
            raise InvalidInput(
                f"inference {inference_id!r}: each actual row must be a list of "
                f"{len(predicted)} numbers"
            )
        return math.fsum(abs(p - a) for p, a in zip(predicted, actual, strict=True)) / len(
            predicted
        )
    if not _is_number(actual):
        raise InvalidInput(
            f"inference {inference_id!r}: a regressor's actual must be a number, got {actual!r}"
        )
    return abs(float(predicted) - float(actual))


def quality_documents(model: str, judgements: Iterable[Judgement]) -> list[dict[str, Any]]:
    """The EMF records of judged feedback: per version, a count and the per-row quality."""
    by_version: dict[str, list[Judgement]] = {}
    for j in judgements:
        by_version.setdefault(j.version, []).append(j)
    docs: list[dict[str, Any]] = []
    sets = (names.BY_MODEL, names.BY_VERSION)
    for version, group in by_version.items():
        dims = {names.MODEL: model, names.VERSION: version}
        props = {
            "level": "INFO",
            "message": "feedback",
            "inference_ids": [j.inference_id for j in group],
        }
        correct = [c for j in group for c in (j.correct or ())]
        errors = [e for j in group for e in (j.errors or ())]
        rows = len(correct) + len(errors)
        docs.append(emf.document(dims, sets, [(names.FEEDBACK, names.COUNT, float(rows))], props))
        if correct:
            docs.extend(
                emf.series_documents(dims, sets, names.PREDICTION_CORRECT, names.NONE, correct)
            )
        if errors:
            docs.extend(emf.series_documents(dims, sets, names.ABSOLUTE_ERROR, names.NONE, errors))
    return docs


def unknown_ids_error(model: str, unknown: Sequence[str]) -> ModelNotFound:
    shown = ", ".join(repr(i) for i in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
    return ModelNotFound(f"unknown or expired inference id(s) for model {model!r}: {shown}")


ClassLabels = Callable[[str], Sequence[str] | None]


class FeedbackService:
    """`POST /models/{m}/feedback` behind HTTP: look up, judge, emit, answer."""

    def __init__(
        self,
        model: str,
        store: PredictionStore | None,
        class_labels: ClassLabels,
        write: Callable[[str], None],
    ) -> None:
        self.model = model
        self.store = store
        self._class_labels = class_labels
        self._write = write

    def __call__(self, body: Any) -> dict[str, Any]:
        if self.store is None:
            raise FeedbackDisabled(
                f"feedback is off for model {self.model!r} (deploy with FeedbackEnabled=true)"
            )
        pairs = parse_feedback(body)
        try:
            found = self.store.get_many([i for i, _ in pairs])
        except LambdaserveError:
            raise
        except Exception as exc:
            raise FeedbackUnavailable("the feedback table cannot be read; retry later") from exc
        unknown = [i for i, _ in pairs if i not in found or found[i].model != self.model]
        if unknown:
            raise unknown_ids_error(self.model, list(dict.fromkeys(unknown)))
        judgements = [
            judge(found[i], actual, self._class_labels(found[i].version)) for i, actual in pairs
        ]
        for doc in quality_documents(self.model, judgements):
            self._write(emf.dumps(doc))
        return {"model": self.model, "results": [j.to_json() for j in judgements]}
