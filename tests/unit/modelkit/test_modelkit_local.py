"""An added model through the local runtime: `lambdaserve invoke` on the project copy."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from modelkit_helpers import ROOT

from lambdaserve.modelkit.add import AddOptions, add_model
from lambdaserve.modelkit.project import Project


@pytest.mark.slow
def test_an_added_model_answers_through_lambdaserve_invoke(
    project: Project, sources: dict[str, Any]
) -> None:
    path, booster, _ = sources["lightgbm"]
    add_model(project, AddOptions("cancer_gbm", path), lambda _: None)
    event_path = project.events / "cancer_gbm_predict_instances.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambdaserve.cli",
            "invoke",
            "CancerGbmFunction",
            "-e",
            str(event_path),
        ],
        cwd=project.template.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    rows = np.asarray(json.loads(json.loads(event_path.read_text())["body"])["instances"])
    expected = booster.predict_proba(rows.astype(np.float32).astype(np.float64))[:, 1]
    got = [p["probabilities"]["1"] for p in body["predictions"]]
    np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.slow
def test_an_added_text_model_answers_through_lambdaserve_invoke(
    project: Project, tmp_path: Any
) -> None:
    import joblib

    from lambdaserve.modelkit.sources.sklearn import TEXT_FEATURE

    sys.path.insert(0, str(ROOT / "scripts"))
    import train_models

    model, holdout = train_models.write_text_source(tmp_path / "text")
    add_model(project, AddOptions("opinions", model, holdout=holdout), lambda _: None)
    event_path = project.events / "opinions_tf_predict_columns.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "lambdaserve.cli",
            "invoke",
            "OpinionsFunction",
            "-e",
            str(event_path),
        ],
        cwd=project.template.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    response = json.loads(result.stdout)
    assert response["statusCode"] == 200, response
    texts = json.loads(json.loads(event_path.read_text())["body"])["inputs"]
    assert all(type(row[0]) is str for row in texts) and TEXT_FEATURE == "text"
    source = joblib.load(model)
    outputs = json.loads(response["body"])["outputs"]
    flat = [row[0] for row in texts]
    assert outputs["label"] == source.predict(flat).tolist()
    np.testing.assert_allclose(outputs["probabilities"], source.predict_proba(flat), atol=1e-5)
