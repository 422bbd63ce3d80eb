"""Write API Gateway HTTP API (payload 2.0) sample events for every route family of every model.

The events feed `sam local invoke -e`, `lambdaserve invoke --event` and the functional tests.
Inputs are real rows of each sample model's dataset, so predictions are meaningful; a model
added with `lambdaserve add-model` keeps the rows its events already hold.
Run: `python scripts/make_events.py` (or `make events`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn import datasets

from lambdaserve.modelkit.events import Events, stored_feeds, write
from lambdaserve.repository import ModelRepository

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "events" / "api"
DATASETS = {
    "iris": "load_iris",
    "breast_cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
    "digits": "load_digits",
}


def sample_rows(name: str, count: int) -> list[list[float]]:
    data = getattr(datasets, DATASETS[name])().data
    picks = np.linspace(0, len(data) - 1, count).astype(int)
    return [[float(v) for v in data[i]] for i in picks]


def model_samples(repo: ModelRepository, name: str) -> dict[str, np.ndarray]:
    manifest = repo.manifest(name, repo.resolve(name))
    if name in DATASETS:
        return {manifest.inputs[0].name: np.asarray(sample_rows(name, 3))}
    return stored_feeds(OUT, manifest)


def main() -> None:
    repo = ModelRepository(ROOT / "layers" / "models")
    events = Events(ROOT / "template.yaml")
    written = 0
    for name in repo.names():
        written += len(write(OUT, name, events.model(repo, name, model_samples(repo, name))))
    written += len(write(OUT, "index", events.index()))
    print(f"wrote {written} events to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
