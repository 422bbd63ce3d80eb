"""A text model (TF-IDF + logistic regression) imported by add-model and served end to end."""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest

from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.check import check
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))
import train_models


@pytest.fixture(scope="module")
def text_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Any]:
    out = tmp_path_factory.mktemp("text")
    model, holdout = train_models.write_text_source(out)
    return model, holdout, joblib.load(model)


def _quiet(_: str) -> None:
    pass


def _call(handler: Any, event: dict[str, Any], body: Any = None, **headers: str) -> Any:
    if body is not None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        event = {**event, "body": raw.decode("latin-1"), "isBase64Encoded": False}
        if isinstance(body, bytes):
            import base64

            event["body"] = base64.b64encode(raw).decode()
            event["isBase64Encoded"] = True
        event["headers"] = {**event["headers"], "content-length": str(len(raw)), **headers}
    return handler(event, None)


def _event(project: Project, kind: str) -> dict[str, Any]:
    return dict(json.loads((project.events / f"sentiment_{kind}.json").read_text()))


@pytest.fixture
def added(project: Project, text_source: tuple[Path, Path, Any]) -> Project:
    model, holdout, _ = text_source
    add_model(project, AddOptions("sentiment", model, holdout=holdout), _quiet)
    return project


def test_the_text_model_is_imported_with_a_string_input(
    added: Project, text_source: tuple[Path, Path, Any]
) -> None:
    doc = json.loads((added.models / "sentiment" / "1" / "model.json").read_text())
    assert doc["inputs"] == [{"name": "input", "datatype": "BYTES", "shape": [-1, 1]}]
    assert doc["outputs"][0] == {"name": "label", "datatype": "BYTES", "shape": [-1]}
    assert doc["feature_names"] == ["text"]
    assert doc["class_labels"] == list(train_models.TEXT_CLASSES)
    texts, classes = train_models.review_texts(200, seed=1)
    accuracy = float((text_source[2].predict(texts) == np.asarray(classes)).mean())
    assert doc["metrics"]["accuracy"] == pytest.approx(accuracy, abs=1e-4)
    assert doc["source"]["estimator"] == "Pipeline(TfidfVectorizer, LogisticRegression)"
    assert {p.stem for p in added.events.glob("sentiment_*.json")} >= {
        "sentiment_predict",
        "sentiment_predict_named",
        "sentiment_predict_instances",
        "sentiment_tf_predict",
        "sentiment_tf_predict_columns",
        "sentiment_v2_infer",
    }
    assert check(added).problems == []


def test_every_protocol_answers_like_the_source(
    added: Project, text_source: tuple[Path, Path, Any], serve: Any
) -> None:
    source = text_source[2]
    handler = serve(added, "sentiment")
    texts = ["The lamp works perfectly, love it!", "Broke after two days.", "It is okay."]
    proba = source.predict_proba(texts)
    labels = source.predict(texts).tolist()

    simple = json.loads(
        _call(handler, _event(added, "predict_instances"), {"instances": texts})["body"]
    )
    assert [p["label"] for p in simple["predictions"]] == labels
    assert [p["prediction"] for p in simple["predictions"]] == labels
    got = [[p["probabilities"][c] for c in source.classes_] for p in simple["predictions"]]
    np.testing.assert_allclose(got, proba, atol=1e-5)
    for body in (
        {"features": texts[0]},
        {"features": [texts[0]]},
        {"features": {"text": texts[0]}},
    ):
        one = json.loads(_call(handler, _event(added, "predict"), body)["body"])
        assert one["label"] == labels[0]

    tf = json.loads(_call(handler, _event(added, "tf_predict_columns"), {"inputs": texts})["body"])
    assert tf["outputs"]["label"] == labels
    np.testing.assert_allclose(tf["outputs"]["probabilities"], proba, atol=1e-5)
    rows = [[t] for t in texts]
    tf_rows = json.loads(
        _call(handler, _event(added, "tf_predict_columns"), {"instances": rows})["body"]
    )
    assert [p["label"] for p in tf_rows["predictions"]] == labels

    tensor = {"name": "input", "datatype": "BYTES", "shape": [3, 1], "data": texts}
    v2 = json.loads(_call(handler, _event(added, "v2_infer"), {"inputs": [tensor]})["body"])
    outputs = {o["name"]: o for o in v2["outputs"]}
    assert outputs["label"] == {"name": "label", "datatype": "BYTES", "shape": [3], "data": labels}
    np.testing.assert_allclose(outputs["probabilities"]["data"], proba.ravel(), atol=1e-5)


def _binary_request(texts: list[str | bytes]) -> tuple[bytes, str]:
    """Triton's binary tensor extension: JSON header, then each element length-prefixed."""
    raw = b"".join(
        struct.pack("<I", len(b)) + b
        for b in (t if isinstance(t, bytes) else t.encode() for t in texts)
    )
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "datatype": "BYTES",
                    "shape": [len(texts), 1],
                    "parameters": {"binary_data_size": len(raw)},
                }
            ],
            "parameters": {"binary_data_output": True},
        }
    ).encode()
    return head + raw, str(len(head))


def test_v2_binary_bytes_tensors_in_and_out(
    added: Project, text_source: tuple[Path, Path, Any], serve: Any
) -> None:
    source = text_source[2]
    handler = serve(added, "sentiment")
    texts = ["Très bien, excellent quality", "terrible quality, a waste of money"]
    body, length = _binary_request(list(texts))
    response = _call(
        handler,
        _event(added, "v2_infer"),
        body,
        **{"content-type": "application/octet-stream", "inference-header-content-length": length},
    )
    assert response["statusCode"] == 200, response["body"]
    import base64

    raw = (
        base64.b64decode(response["body"])
        if response.get("isBase64Encoded")
        else response["body"].encode("latin-1")
    )
    size = int(response["headers"]["inference-header-content-length"])
    head = json.loads(raw[:size])
    outputs = {o["name"]: o for o in head["outputs"]}
    blob = raw[size:]
    label_size = outputs["label"]["parameters"]["binary_data_size"]
    labels, pos = [], 0
    while pos < label_size:
        (n,) = struct.unpack_from("<I", blob, pos)
        labels.append(blob[pos + 4 : pos + 4 + n].decode())
        pos += 4 + n
    assert labels == source.predict(texts).tolist()
    proba = np.frombuffer(blob[label_size:], dtype="<f4").reshape(2, 3)
    np.testing.assert_allclose(proba, source.predict_proba(texts), atol=1e-5)

    # A text sent as V2 binary bytes is the text sent as a JSON string: one cache entry
    # (stored on the input's second miss, as deployed).
    for _ in range(2):
        again = _call(handler, _event(added, "predict"), {"features": texts[0]})
        assert again["statusCode"] == 200 and again["headers"]["x-cache"] == "miss"
    one, length = _binary_request([texts[0]])
    hit = _call(
        handler,
        _event(added, "v2_infer"),
        one,
        **{"content-type": "application/octet-stream", "inference-header-content-length": length},
    )
    assert hit["statusCode"] == 200 and hit["headers"]["x-cache"] == "hit"
    # Bytes that are not UTF-8 are still a BYTES tensor: onnxruntime scores them.
    odd, length = _binary_request([b"\xff\xfe not utf-8"])
    scored = _call(
        handler,
        _event(added, "v2_infer"),
        odd,
        **{"content-type": "application/octet-stream", "inference-header-content-length": length},
    )
    assert scored["statusCode"] == 200, scored["body"]


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("predict", {"features": [1.5]}, "not a string"),
        ("predict", {"features": ["a", 2]}, "not a string"),
        ("predict_instances", {"instances": [["a"], ["b", "c"]]}, "equally long"),
        ("predict_instances", {"instances": [["a", "b"]]}, "shape"),
        ("tf_predict_columns", {"inputs": [None]}, "rows must be strings"),
        ("tf_predict_columns", {"inputs": []}, "non-empty"),
        (
            "v2_infer",
            {"inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 1], "data": [1.0]}]},
            "expects BYTES",
        ),
        (
            "v2_infer",
            {"inputs": [{"name": "input", "datatype": "BYTES", "shape": [1, 1], "data": [3]}]},
            "must be strings",
        ),
        (
            "v2_infer",
            {
                "inputs": [
                    {
                        "name": "input",
                        "datatype": "BYTES",
                        "shape": [2, 1],
                        "data": [["a"], ["b", "c"]],
                    }
                ]
            },
            "ragged",
        ),
    ],
)
def test_bad_text_requests_get_a_clear_400(
    added: Project, serve: Any, kind: str, body: Any, message: str
) -> None:
    response = _call(serve(added, "sentiment"), _event(added, kind), body)
    assert response["statusCode"] == 400, response["body"]
    assert message in json.loads(response["body"])["error"]


def test_a_converter_that_disagrees_on_text_is_refused(project: Project, tmp_path: Path) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    texts, classes = train_models.review_texts(300, seed=0)
    # skl2onnx's bigrams weigh differently from scikit-learn's: validation must notice.
    bigrams = make_pipeline(TfidfVectorizer(ngram_range=(1, 2)), LogisticRegression())
    joblib.dump(bigrams.fit(texts, classes), tmp_path / "bigrams.joblib")
    holdout = tmp_path / "holdout.csv"
    holdout.write_text(
        "text,target\n" + "".join(f'"{t}",{c}\n' for t, c in zip(texts, classes, strict=True))
    )
    before = project.template.read_text()
    with pytest.raises(ModelKitError, match="disagrees with the source model in 'probabilities'"):
        add_model(
            project, AddOptions("bigrams", tmp_path / "bigrams.joblib", holdout=holdout), _quiet
        )
    assert project.template.read_text() == before
    assert not (project.models / "bigrams").exists()
