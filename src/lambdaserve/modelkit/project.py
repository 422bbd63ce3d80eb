"""Where a project keeps what the model tooling edits: repository, template, events."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    models: Path  # the model repository (layers/models)
    template: Path  # template.yaml
    events: Path  # events/api

    @classmethod
    def at(cls, root: Path) -> Project:
        return cls(root / "layers" / "models", root / "template.yaml", root / "events" / "api")
