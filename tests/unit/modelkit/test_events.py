"""Sample events of one model: routed by the template, and told apart from longer names."""

from __future__ import annotations

import json
from pathlib import Path

from modelkit_helpers import ROOT

from lambdaserve.modelkit.events import Events, model_files, saved_rows, stored_feeds
from lambdaserve.repository import ModelRepository


def test_the_shipped_events_are_what_the_builder_writes() -> None:
    repo = ModelRepository(ROOT / "layers" / "models")
    events = Events(ROOT / "template.yaml")
    directory = ROOT / "events" / "api"
    for name in ("iris", "breast_cancer"):
        built = events.model(repo, name, stored_feeds(directory, repo.manifest(name, "1")))
        for kind, event in built.items():
            if kind in ("predict", "predict_instances", "v2_infer_version", "tf_predict"):
                written = json.loads((directory / f"{name}_{kind}.json").read_text())
                assert written == event, f"{name}_{kind}"


def test_model_files_skip_a_model_whose_name_extends_it(tmp_path: Path) -> None:
    for stem in ("iris_predict", "iris_v2_predict", "iris_tf_predict_label_stable", "iris_notes"):
        (tmp_path / f"{stem}.json").write_text("{}")
    found = model_files(tmp_path, "iris", ["iris", "iris_v2"])
    assert [p.stem for p in found] == ["iris_predict", "iris_tf_predict_label_stable"]


def test_saved_rows_come_from_the_instances_event() -> None:
    rows = saved_rows(ROOT / "events" / "api", "iris")
    assert rows is not None and len(rows) == 3 and len(rows[0]) == 4
    assert saved_rows(ROOT / "events" / "api", "nope") is None
