"""The whole job against moto S3: formats, passthrough, bad rows, failures, idempotency."""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import numpy as np
import orjson
import pytest
from botocore.exceptions import ClientError

from lambdaserve.batch.config import BatchConfig
from lambdaserve.batch.job import BatchJob
from lambdaserve.batch.multipart import S3Upload
from lambdaserve.batch.source import InputRef, S3ObjectSource
from lambdaserve.batch.summary import FAILED, SKIPPED, SUCCEEDED
from lambdaserve.batch.summary_store import SummaryStore
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.model import SessionConfig
from lambdaserve.repository import ModelRepository

from .conftest import BUCKET

IRIS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
ROWS = [[5.1, 3.5, 1.4, 0.2], [6.4, 2.9, 4.3, 1.3], [5.9, 3.0, 5.1, 1.8], [7.7, 2.6, 6.9, 2.3]]
SPECIES = ["setosa", "versicolor", "virginica", "virginica"]


def put(s3: Any, key: str, body: bytes) -> InputRef:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    etag = s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')
    return InputRef(BUCKET, key, etag)


def get(s3: Any, key: str) -> bytes:
    body: bytes = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    return body


def keys(s3: Any, prefix: str = "results/") -> list[str]:
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def summary(s3: Any, output: str) -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(get(s3, output + ".summary.json"))
    return loaded


def iris_csv(rows: list[list[float]] = ROWS) -> bytes:
    header = "id," + ",".join(f'"{n}"' for n in IRIS) + ",comment\n"
    lines = [f"r{i},{','.join(map(str, r))},note {i}" for i, r in enumerate(rows)]
    return (header + "\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True, params=[False, True], ids=["in-process", "parse-process"])
def parse_process(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every job test runs twice: CSV parsed in-process, and by the helper process."""
    monkeypatch.setitem(DEFAULTS, "parse_process", request.param)
    return bool(request.param)


DEFAULTS: dict[str, Any] = {}


def run(s3: Any, plane: DataPlane, ref: InputRef, **config: Any) -> Any:
    return BatchJob(s3, plane, BatchConfig(**{**DEFAULTS, **config})).run(ref)


def test_csv_with_passthrough_columns(s3: Any, plane: DataPlane) -> None:
    ref = put(s3, "incoming/iris/2026/day 1.csv", iris_csv())
    result = run(s3, plane, ref)
    assert result.status == SUCCEEDED
    out = get(s3, "results/iris/2026/day 1.csv").decode()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["id", "comment", "prediction", "probability", "label"]
    assert [r["id"] for r in rows] == ["r0", "r1", "r2", "r3"]
    assert [r["comment"] for r in rows] == [f"note {i}" for i in range(4)]
    assert [r["label"] for r in rows] == SPECIES
    expected = plane.model("iris").predict({"input": np.asarray(ROWS, dtype=np.float32)})
    assert [int(r["prediction"]) for r in rows] == expected["label"].tolist()
    np.testing.assert_allclose(
        [float(r["probability"]) for r in rows], expected["probabilities"].max(1), atol=5e-7
    )
    assert keys(s3) == [
        "results/iris/2026/day 1.csv",
        "results/iris/2026/day 1.csv.errors.jsonl",
        "results/iris/2026/day 1.csv.summary.json",
    ]
    record = summary(s3, "results/iris/2026/day 1.csv")
    assert record["status"] == SUCCEEDED and record["error"] is None
    assert record["model"] == {"name": "iris", "version": "1"}
    assert record["rows"] == {"read": 4, "predicted": 4, "failed": 0, "blank_lines": 0}
    assert record["input"]["etag"] == ref.etag and record["input"]["format"] == "csv"
    outputs = record["outputs"]
    head = s3.head_object(Bucket=BUCKET, Key="results/iris/2026/day 1.csv")
    assert outputs["predictions"]["etag"] == head["ETag"].strip('"')
    assert head["ContentType"] == "text/csv"
    assert get(s3, outputs["errors"]["key"]) == b""


def test_gzip_csv_in_gzip_csv_out(s3: Any, plane: DataPlane) -> None:
    ref = put(s3, "incoming/iris/a.csv.gz", gzip.compress(iris_csv()))
    assert run(s3, plane, ref).status == SUCCEEDED
    plain = put(s3, "incoming/iris/a.csv", iris_csv())
    assert run(s3, plane, plain).status == SUCCEEDED
    assert gzip.decompress(get(s3, "results/iris/a.csv.gz")) == get(s3, "results/iris/a.csv")
    assert summary(s3, "results/iris/a.csv.gz")["input"]["compression"] == "gzip"


def test_headerless_csv_gets_line_numbers(s3: Any, plane: DataPlane) -> None:
    body = "\n".join(",".join(map(str, r)) for r in ROWS).encode()  # no trailing newline
    assert run(s3, plane, put(s3, "incoming/iris/raw.csv", body)).status == SUCCEEDED
    lines = get(s3, "results/iris/raw.csv").decode().splitlines()
    assert lines[0] == "line,prediction,probability,label"
    assert [line.split(",")[0] for line in lines[1:]] == ["1", "2", "3", "4"]


@pytest.mark.parametrize("compress", [False, True])
def test_jsonl_objects_and_arrays(s3: Any, plane: DataPlane, compress: bool) -> None:
    rows = [
        {"id": i, "meta": {"k": "v"}, **dict(zip(IRIS, r, strict=True))} for i, r in enumerate(ROWS)
    ]
    body = b"".join(orjson.dumps(r) + b"\n" for r in rows[:2]) + b"[5.9, 3.0, 5.1, 1.8]\n"
    key = "incoming/iris/v1/x.jsonl" + (".gz" if compress else "")
    ref = put(s3, key, gzip.compress(body) if compress else body)
    assert run(s3, plane, ref).status == SUCCEEDED
    raw = get(s3, "results/iris/v1/x.jsonl" + (".gz" if compress else ""))
    out = [orjson.loads(line) for line in (gzip.decompress(raw) if compress else raw).splitlines()]
    assert [o.get("id") for o in out] == [0, 1, None]
    assert out[0]["meta"] == {"k": "v"} and out[2]["line"] == 3
    assert [o["label"] for o in out] == SPECIES[:3]
    assert all(set(o) >= {"prediction", "probability"} for o in out)


def test_regressor_jsonl(s3: Any, plane: DataPlane) -> None:
    features = plane.manifest("diabetes").feature_names
    x = np.random.default_rng(0).normal(0, 0.05, (5, len(features)))
    body = b"".join(orjson.dumps(dict(zip(features, r, strict=True))) + b"\n" for r in x.tolist())
    assert run(s3, plane, put(s3, "incoming/diabetes/d.jsonl", body)).status == SUCCEEDED
    out = [orjson.loads(line) for line in get(s3, "results/diabetes/d.jsonl").splitlines()]
    expected = plane.model("diabetes").predict({"input": x.astype(np.float32)})["prediction"]
    np.testing.assert_allclose([o["prediction"] for o in out], expected[:, 0], rtol=1e-6)
    assert set(out[0]) == {"line", "prediction"}


def test_bad_rows_go_to_the_error_report(s3: Any, plane: DataPlane) -> None:
    body = iris_csv() + b"r9,1,2,3\nr10,1,x,3,4,c\n\nr11,1,2,3,,c\n"
    result = run(s3, plane, put(s3, "incoming/iris/bad.csv", body))
    assert result.status == SUCCEEDED
    report = [
        orjson.loads(line) for line in get(s3, "results/iris/bad.csv.errors.jsonl").splitlines()
    ]
    assert [(e["line"], e["error"]) for e in report] == [
        (6, "expected 6 columns, found 4"),
        (7, "column 'sepal width (cm)' is not a number: 'x'"),
        (9, "column 'petal width (cm)' is empty (missing value)"),
    ]
    assert report[0]["input"] == "r9,1,2,3"
    assert summary(s3, "results/iris/bad.csv")["rows"] == {
        "read": 7,
        "predicted": 4,
        "failed": 3,
        "blank_lines": 1,
    }
    assert len(get(s3, "results/iris/bad.csv").splitlines()) == 1 + 4


def test_default_version_is_the_stable_label(s3: Any, plane: DataPlane) -> None:
    features = plane.manifest("breast_cancer", "1").feature_names
    body = (",".join(features) + "\n" + ",".join(["1.0"] * len(features)) + "\n").encode()
    run(s3, plane, put(s3, "incoming/breast_cancer/a.csv", body))
    run(s3, plane, put(s3, "incoming/breast_cancer/v2/a.csv", body))
    assert summary(s3, "results/breast_cancer/a.csv")["model"]["version"] == "1"
    assert summary(s3, "results/breast_cancer/v2/a.csv")["model"]["version"] == "2"


def test_output_names_never_overwrite_passthrough_columns(s3: Any, plane: DataPlane) -> None:
    body = ("label," + ",".join(IRIS) + "\ntruth," + ",".join(map(str, ROWS[0])) + "\n").encode()
    run(s3, plane, put(s3, "incoming/iris/eval.csv", body))
    header = get(s3, "results/iris/eval.csv").splitlines()[0]
    assert header == b"label,prediction,probability,predicted_label"


@pytest.mark.parametrize(
    ("key", "body", "message"),
    [
        ("incoming/nosuchmodel/a.csv", iris_csv(), "model 'nosuchmodel' not found"),
        ("incoming/iris/v9/a.csv", iris_csv(), "has no version '9'"),
        ("incoming/iris/a.parquet", b"PAR1", "unsupported file type"),
        ("incoming/iris/a.csv.gz", b"not gzip at all\n", "corrupt gzip"),
        ("incoming/iris/a.csv", b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8"),
        ("incoming/iris/a.csv", b"", "empty"),
        ("incoming/iris/a.jsonl", iris_csv(), "not JSON Lines"),
        ("incoming/a.csv", iris_csv(), "does not name a model"),
    ],
)
def test_unreadable_input_writes_only_a_failure_summary(
    s3: Any, plane: DataPlane, key: str, body: bytes, message: str
) -> None:
    result = run(s3, plane, put(s3, key, body))
    assert result.status == FAILED and message in (result.error or "")
    (written,) = keys(s3)
    assert written.endswith(".summary.json")
    record = orjson.loads(get(s3, written))
    assert record["status"] == FAILED and message in record["error"]
    assert record["outputs"] == {}


def test_a_failing_version_replaces_results_of_the_previous_one(s3: Any, plane: DataPlane) -> None:
    assert run(s3, plane, put(s3, "incoming/iris/a.csv", iris_csv())).status == SUCCEEDED
    assert run(s3, plane, put(s3, "incoming/iris/a.csv", b"garbage,only\n")).status == FAILED
    assert keys(s3) == ["results/iris/a.csv.summary.json"]


def test_repeated_event_is_a_no_op(s3: Any, plane: DataPlane) -> None:
    ref = put(s3, "incoming/iris/a.csv", iris_csv())
    assert run(s3, plane, ref).status == SUCCEEDED
    before = {k: s3.head_object(Bucket=BUCKET, Key=k)["LastModified"] for k in keys(s3)}
    again = run(s3, plane, ref)
    assert again.status == SKIPPED and "repeated" in (again.note or "")
    after = {k: s3.head_object(Bucket=BUCKET, Key=k)["LastModified"] for k in keys(s3)}
    assert after == before


def test_repeated_event_redoes_the_work_if_an_output_went_missing(
    s3: Any, plane: DataPlane
) -> None:
    ref = put(s3, "incoming/iris/a.csv", iris_csv())
    run(s3, plane, ref)
    first = get(s3, "results/iris/a.csv")
    s3.delete_object(Bucket=BUCKET, Key="results/iris/a.csv")
    assert run(s3, plane, ref).status == SUCCEEDED
    assert get(s3, "results/iris/a.csv") == first


def test_stale_event_for_a_replaced_object_is_skipped(s3: Any, plane: DataPlane) -> None:
    old = put(s3, "incoming/iris/a.csv", iris_csv())
    new = put(s3, "incoming/iris/a.csv", iris_csv(ROWS[:2]))
    assert run(s3, plane, new).status == SUCCEEDED
    stale = run(s3, plane, old)
    assert stale.status == SKIPPED and "stale" in (stale.note or "")
    assert summary(s3, "results/iris/a.csv")["input"]["etag"] == new.etag
    assert len(get(s3, "results/iris/a.csv").splitlines()) == 3


def test_upload_replaced_while_processing_does_not_publish_stale_results(
    s3: Any, plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Version A's job is still running when B lands and B's job finishes first."""
    old = put(s3, "incoming/iris/a.csv", iris_csv())
    model = plane.model("iris")
    real = model.predict
    newer: dict[str, InputRef] = {}

    def predict_then_replace(inputs: Any, outputs: Any = None) -> Any:
        if not newer:
            newer["ref"] = put(s3, "incoming/iris/a.csv", iris_csv(ROWS[:2]))
            monkeypatch.setattr(model, "predict", real)
            assert run(s3, plane, newer["ref"]).status == SUCCEEDED
        return real(inputs, outputs)

    monkeypatch.setattr(model, "predict", predict_then_replace)
    stale = run(s3, plane, old)
    assert stale.status == SKIPPED and "replaced while it was processed" in (stale.note or "")
    assert summary(s3, "results/iris/a.csv")["input"]["etag"] == newer["ref"].etag
    assert len(get(s3, "results/iris/a.csv").splitlines()) == 3
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_failure_mid_write_leaves_no_output(
    s3: Any, plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wide passthrough makes the output big enough for several multipart parts.
    filler = "x" * 400
    lines = [f"{i},{filler},5.1,3.5,1.4,0.2" for i in range(40_000)]
    body = ("id,filler," + ",".join(IRIS) + "\n" + "\n".join(lines) + "\n").encode()
    ref = put(s3, "incoming/iris/big.csv", body)
    model = plane.model("iris")
    real = model.predict
    # Fail about 12 one-MiB blocks in (the model is called in fixed 1,024-row chunks).
    fail_at_rows = 12 * (1 << 20) * len(lines) // len(body)
    seen = {"rows": 0}

    def flaky(inputs: Any, outputs: Any = None) -> Any:
        seen["rows"] += next(iter(inputs.values())).shape[0]
        if seen["rows"] > fail_at_rows:
            raise ConnectionError("injected failure after parts were uploaded")
        return real(inputs, outputs)

    monkeypatch.setattr(model, "predict", flaky)
    started = []
    create = s3.create_multipart_upload
    monkeypatch.setattr(
        s3, "create_multipart_upload", lambda **kw: started.append(kw["Key"]) or create(**kw)
    )
    with pytest.raises(ConnectionError):
        run(s3, plane, ref, block_bytes=1 << 20, part_bytes=5 << 20)
    assert started == ["results/iris/big.csv"]  # parts had been uploaded
    assert keys(s3) == ["results/iris/big.csv.summary.json"]
    assert "injected failure" in summary(s3, "results/iris/big.csv")["error"]
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_errors_object_failing_to_complete_publishes_no_predictions(
    s3: Any, plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Errors complete first: predictions never appear without their errors object."""
    ref = put(s3, "incoming/iris/a.csv", iris_csv())
    real = S3Upload.complete
    completed = []

    def complete(upload: S3Upload) -> str:
        if upload.key.endswith(".errors.jsonl"):
            raise ConnectionError("injected: errors object not completed")
        completed.append(upload.key)
        return real(upload)

    monkeypatch.setattr(S3Upload, "complete", complete)
    with pytest.raises(ConnectionError):
        run(s3, plane, ref)
    assert completed == []
    assert keys(s3) == ["results/iris/a.csv.summary.json"]
    assert summary(s3, "results/iris/a.csv")["status"] == FAILED


def test_a_failing_repeat_check_closes_the_input_being_read(
    s3: Any, plane: DataPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The GET runs beside the repeated-event check; if the check fails, it is released."""
    ref = put(s3, "incoming/iris/a.csv", iris_csv())
    real_open = S3ObjectSource.open
    bodies = []

    def open_and_keep(source: S3ObjectSource) -> str | None:
        gone = real_open(source)
        bodies.append(source._response["Body"] if source._response else None)
        return gone

    def broken(*args: Any) -> bool:
        raise ClientError({"Error": {"Code": "InternalError", "Message": "x"}}, "GetObject")

    monkeypatch.setattr(S3ObjectSource, "open", open_and_keep)
    monkeypatch.setattr(SummaryStore, "already_done", broken)
    with pytest.raises(ClientError):
        run(s3, plane, ref)
    assert len(bodies) == 1 and bodies[0]._raw_stream.closed


def test_stops_cleanly_before_the_lambda_deadline(s3: Any, plane: DataPlane) -> None:
    ref = put(s3, "incoming/iris/a.csv", iris_csv())
    job = BatchJob(s3, plane, BatchConfig(), remaining_seconds=lambda: 5.0)
    result = job.run(ref)
    assert result.status == FAILED and "about to time out" in (result.error or "")
    assert keys(s3) == ["results/iris/a.csv.summary.json"]


class Recorder:
    """A dataplane stage that keeps a record of every finished request or job."""

    headers: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.finished: list[tuple[str, str | None, int]] = []

    def __call__(self, ctx: RequestContext, request: Any, call_next: Any) -> Any:
        return call_next(ctx, request)

    def finish(self, ctx: RequestContext) -> None:
        self.finished.append((ctx.route, ctx.selected_version, ctx.status))


class OnlyVersionOne:
    """A selector overriding what the key names: the job must use what it chooses."""

    headers: tuple[str, ...] = ()

    def __call__(self, ctx: RequestContext) -> str:
        return "1"


def test_the_job_goes_through_the_dataplane(s3: Any, repository: ModelRepository) -> None:
    plane = DataPlane(repository, SessionConfig(intra_op_threads=1))
    recorder = Recorder()
    plane.configure(OnlyVersionOne(), [recorder])
    names = repository.manifest("breast_cancer", "1").feature_names
    body = ("id," + ",".join(names) + "\n" + "a," + ",".join(["1"] * len(names)) + "\n").encode()
    ok = run(s3, plane, put(s3, "incoming/breast_cancer/v2/a.csv", body))
    assert ok.status == SUCCEEDED and ok.model_version == "1"
    assert summary(s3, "results/breast_cancer/v2/a.csv")["model"]["version"] == "1"
    bad = run(s3, plane, put(s3, "incoming/breast_cancer/b.csv", b"x,y\n1,2\n"))
    assert bad.status == FAILED
    assert recorder.finished == [("batch", "1", 200), ("batch", "1", 400)]


def test_a_text_model_reads_a_text_column(s3: Any, plane: DataPlane) -> None:
    texts = ['Great kettle, "works perfectly"', "Broke after two days.\nWould not buy again", ""]
    body = io.StringIO()
    writer = csv.writer(body, lineterminator="\n")
    writer.writerow(["id", "text"])
    writer.writerows([[i, t] for i, t in enumerate(texts)])
    ref = put(s3, "incoming/reviews/r.csv", body.getvalue().encode())
    assert run(s3, plane, ref).status == SUCCEEDED
    out = list(csv.DictReader(io.StringIO(get(s3, "results/reviews/r.csv").decode())))
    model = plane.model("reviews").predict({"input": np.array([[t] for t in texts[:2]], object)})
    assert [o["id"] for o in out] == ["0", "1"]
    assert [o["label"] for o in out] == model["label"].tolist() == ["positive", "negative"]
    assert [o["prediction"] for o in out] == ["positive", "negative"]
    errors = get(s3, "results/reviews/r.csv.errors.jsonl")
    assert b"column 'text' is empty (missing text)" in errors

    lines = [{"text": texts[0], "id": 7}, [texts[1]], {"text": 5}]
    ref = put(s3, "incoming/reviews/r.jsonl", b"".join(orjson.dumps(r) + b"\n" for r in lines))
    assert run(s3, plane, ref).status == SUCCEEDED
    rows = [orjson.loads(x) for x in get(s3, "results/reviews/r.jsonl").splitlines()]
    assert [(r.get("id"), r["label"]) for r in rows] == [(7, "positive"), (None, "negative")]
