from __future__ import annotations

import json
from pathlib import Path

from lambdaserve.local import banner, template

ROOT = Path(__file__).resolve().parents[3]


def test_models_from_the_repository() -> None:
    lines = {m.name: m for m in banner.models(ROOT / "layers" / "models")}
    assert set(lines) == {"iris", "breast_cancer", "diabetes", "digits"}
    assert lines["iris"].features == 4 and lines["digits"].features == 64
    assert lines["breast_cancer"].versions == ["1", "2"]
    assert lines["breast_cancer"].labels == {"stable": "1", "canary": "2"}
    assert banner.models(None) == [] and banner.models(ROOT / "nope") == []


def test_text_has_urls_models_and_runnable_examples() -> None:
    real = template.load(ROOT / "template.yaml")
    models = banner.models(ROOT / "layers" / "models")
    text = banner.text(real, "http://h:1", "http://h:2", None, models, built=False)
    assert "HTTP API    http://h:1" in text and "Lambda API  http://h:2" in text
    assert "S3 " not in text  # no local S3 without S3 triggers
    assert "iris             versions 1" in text
    # The examples use the narrowest model (iris) and valid JSON bodies.
    posts = [line for line in text.splitlines() if "curl -s -X POST" in line]
    assert [p.split()[4] for p in posts] == [
        "http://h:1/models/iris/predict",
        "http://h:1/v1/models/iris:predict",
        "http://h:1/v2/models/iris/infer",
    ]
    for post in posts:
        json.loads(post.split(" -d ", 1)[1].strip("'"))
    assert "--payload file://events/api/iris_predict.json" in text
    assert text.endswith("Ctrl-C stops everything.")
