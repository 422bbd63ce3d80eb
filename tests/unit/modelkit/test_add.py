"""add-model end to end: convert, validate, write, wire, then serve through the real handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from modelkit_helpers import frame, snapshot

from lambdaserve.local import template
from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.check import check
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.repository import ModelRepository


def _quiet(_: str) -> None:
    pass


def _model_events(project: Project, name: str) -> dict[str, dict[str, Any]]:
    tpl = template.load(project.template)
    owned = {r.key for r in tpl.functions[f"{name.title().replace('_', '')}Function"].routes}
    found = {}
    for path in sorted(project.events.glob(f"{name}_*.json")):
        event = json.loads(path.read_text())
        if event["routeKey"] in owned:  # the catch-all's events go through the index
            found[path.stem[len(name) + 1 :]] = event
    return found


def _answer(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    response = handler(event, None)
    assert response["statusCode"] == 200, response["body"]
    body: dict[str, Any] = json.loads(response["body"])
    return body


def _check_classifier_events(
    project: Project, serve: Any, name: str, source: Any, like: Any
) -> None:
    handler = serve(project, name)
    events = _model_events(project, name)
    assert {"predict", "predict_instances", "tf_predict_columns", "v2_infer", "info"} <= set(events)
    for kind, event in events.items():
        body = _answer(handler, event)
        request = json.loads(event["body"]) if event.get("body") else {}
        if kind == "predict_instances":
            rows = request["instances"]
            want = source.predict_proba(frame(rows, like))
            got = [
                [p["probabilities"][c] for c in sorted(p["probabilities"])]
                for p in body["predictions"]
            ]
            np.testing.assert_allclose(got, want, atol=1e-5)
            assert [p["prediction"] for p in body["predictions"]] == source.predict(
                frame(rows, like)
            ).tolist()
        elif kind == "v2_infer":
            rows = np.reshape(request["inputs"][0]["data"], request["inputs"][0]["shape"])
            outputs = {o["name"]: o["data"] for o in body["outputs"]}
            assert outputs["label"] == source.predict(frame(rows, like)).tolist()
        elif kind == "tf_predict_columns":
            rows = request["inputs"]
            np.testing.assert_allclose(
                body["outputs"]["probabilities"], source.predict_proba(frame(rows, like)), atol=1e-5
            )


def test_sklearn_pipeline_with_preprocessing_is_served_like_the_source(
    project: Project, sources: dict[str, Any], serve: Any
) -> None:
    path, pipeline, data = sources["wine"]
    holdout = path.parent / "wine_holdout.csv"
    added = add_model(
        project,
        AddOptions("wine", path, holdout=holdout, label="stable", description="Wine cultivar"),
        _quiet,
    )
    doc = json.loads((project.models / "wine" / "1" / "model.json").read_text())
    assert doc["feature_names"] == list(data.columns)
    assert doc["class_labels"] == ["0", "1", "2"]
    assert doc["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 13]}]
    assert [o["name"] for o in doc["outputs"]] == ["label", "probabilities"]
    assert doc["source"]["estimator"] == "Pipeline(StandardScaler, PCA, LogisticRegression)"
    truth = sources["wine_target"].iloc[::4].to_numpy()
    expected = float((pipeline.predict(data.iloc[::4]) == truth).mean())
    assert doc["metrics"]["accuracy"] == pytest.approx(expected, abs=1e-4)
    assert json.loads((project.models / "wine" / "labels.json").read_text()) == {"stable": "1"}
    assert added.function == "WineFunction"
    _check_classifier_events(project, serve, "wine", pipeline, data)
    report = check(project)
    assert report.problems == []


def test_lightgbm_classifier_is_served_like_the_source(
    project: Project, sources: dict[str, Any], serve: Any
) -> None:
    path, booster, data = sources["lightgbm"]
    add_model(project, AddOptions("cancer_gbm", path, memory=1536), _quiet)
    doc = ModelRepository(project.models).manifest("cancer_gbm", "1")
    assert doc.task == "classification" and doc.class_labels == ("0", "1")
    assert doc.source["framework"].startswith("lightgbm ")
    tpl = template.load(project.template)
    assert tpl.functions["CancerGbmFunction"].memory == 1536
    handler = serve(project, "cancer_gbm")
    rows = data[:20].astype(np.float32)
    event = json.loads((project.events / "cancer_gbm_predict_instances.json").read_text())
    event["body"] = json.dumps({"instances": rows.tolist()})
    body = _answer(handler, event)
    got = np.asarray([p["probabilities"]["1"] for p in body["predictions"]])
    np.testing.assert_allclose(got, booster.predict_proba(rows.astype(np.float64))[:, 1], atol=1e-5)


def test_onnx_file_is_added_as_it_is(project: Project, serve: Any) -> None:
    source = project.models / "diabetes" / "1" / "model.onnx"
    add_model(project, AddOptions("diabetes_copy", source), _quiet)
    copied = project.models / "diabetes_copy" / "1"
    doc = json.loads((copied / "model.json").read_text())
    assert doc["task"] == "regression"
    assert doc["outputs"] == [{"name": "prediction", "datatype": "FP32", "shape": [-1, 1]}]
    handler = serve(project, "diabetes_copy")
    event = json.loads((project.events / "diabetes_copy_predict.json").read_text())
    body = _answer(handler, event)
    import onnxruntime as ort

    sess = ort.InferenceSession(str(source), providers=["CPUExecutionProvider"])
    row = np.asarray([json.loads(event["body"])["features"]], dtype=np.float32)
    assert body["prediction"] == pytest.approx(
        float(sess.run(None, {"input": row})[0][0, 0]), rel=1e-6
    )


def test_a_new_version_of_a_model_keeps_the_template_and_moves_the_label(
    project: Project, sources: dict[str, Any]
) -> None:
    path, _, _ = sources["wine"]
    add_model(project, AddOptions("wine", path), _quiet)
    before = project.template.read_text()
    added = add_model(project, AddOptions("wine", path, label="canary"), _quiet)
    assert added.version == "2" and added.function is None
    assert project.template.read_text() == before
    assert json.loads((project.models / "wine" / "labels.json").read_text()) == {"canary": "2"}
    assert (project.events / "wine_tf_predict_label_canary.json").is_file()
    with pytest.raises(ModelKitError, match="already has version 2"):
        add_model(project, AddOptions("wine", path, version="2"), _quiet)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("not_a_model", "is not a model: not ONNX"),
        ("dict", "holds a builtins.dict, not a scikit-learn or LightGBM model"),
        ("nan", "the source model outputs NaN or infinity in 'prediction' on 64 of 64"),
        ("custom_op", "cannot load the model: .*Frobnicate"),
        ("future_opset", "cannot load the model"),
    ],
)
def test_bad_sources_get_one_line_and_change_nothing(
    project: Project, sources: dict[str, Any], key: str, message: str
) -> None:
    before = snapshot(project)
    with pytest.raises(ModelKitError, match=message) as caught:
        add_model(project, AddOptions("newmodel", sources[key]), _quiet)
    assert "\n" not in caught.value.message
    assert snapshot(project) == before


def test_a_classifier_with_zipmap_is_refused_as_uncarriable(
    project: Project, sources: dict[str, Any], tmp_path: Path
) -> None:
    from skl2onnx import to_onnx

    _, pipeline, data = sources["wine"]
    onx = to_onnx(pipeline, data.to_numpy(np.float32)[:1])  # ZipMap: a sequence of maps
    path = tmp_path / "zipmap.onnx"
    path.write_bytes(onx.SerializeToString())
    before = snapshot(project)
    with pytest.raises(ModelKitError, match=r"seq\(map.*convert classifiers without ZipMap"):
        add_model(project, AddOptions("zipped", path), _quiet)
    assert snapshot(project) == before


def test_disagreement_with_the_source_is_refused_naming_rows(
    project: Project, sources: dict[str, Any]
) -> None:
    path, _, _ = sources["wine"]
    with pytest.raises(ModelKitError, match=r"disagrees with the source model in 'probabilities'"):
        add_model(project, AddOptions("wine", path, atol=0.0, rtol=1e-12), _quiet)


def test_a_failing_late_step_rolls_everything_back(
    project: Project, sources: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdaserve.modelkit import add as add_module

    def broken(*args: Any) -> Any:
        raise ModelKitError("events could not be written")

    monkeypatch.setattr(add_module, "_write_events", broken)
    before = snapshot(project)
    with pytest.raises(ModelKitError, match="events could not be written"):
        add_model(project, AddOptions("wine", sources["wine"][0], label="stable"), _quiet)
    assert snapshot(project) == before
