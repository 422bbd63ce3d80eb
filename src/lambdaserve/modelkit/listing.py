"""`lambdaserve models`: what the repository holds and which function serves each model."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from lambdaserve.errors import LambdaserveError
from lambdaserve.modelkit import wiring
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.repository import ModelRepository, TensorSpec


@dataclass(frozen=True)
class VersionRow:
    model: str
    version: str
    labels: list[str]
    default: bool
    task: str
    bytes: int
    inputs: list[str]
    outputs: list[str]
    function: str | None


def _tensor(spec: TensorSpec) -> str:
    dims = ",".join("?" if d < 0 else str(d) for d in spec.shape)
    return f"{spec.name}:{spec.datatype}[{dims}]"


def listing(project: Project) -> list[VersionRow]:
    repo = ModelRepository(project.models)
    functions = (
        wiring.Template(project.template.read_text()).model_functions()
        if project.template.is_file()
        else {}
    )
    rows = []
    for name in repo.names():
        try:
            labels = repo.labels(name)
            default = repo.resolve(name)
            for version in repo.versions(name):
                manifest = repo.manifest(name, version)
                size = manifest.onnx_path.stat().st_size if manifest.onnx_path.is_file() else 0
                rows.append(
                    VersionRow(
                        model=name,
                        version=version,
                        labels=sorted(k for k, v in labels.items() if v == version),
                        default=version == default,
                        task=manifest.task,
                        bytes=size,
                        inputs=[_tensor(t) for t in manifest.inputs],
                        outputs=[_tensor(t) for t in manifest.outputs],
                        function=functions.get(name),
                    )
                )
        except LambdaserveError as exc:
            raise ModelKitError(f"{name}: {exc} (run `lambdaserve check`)") from None
    return rows


def render(rows: list[VersionRow], as_json: bool = False) -> str:
    if as_json:
        return json.dumps([asdict(r) for r in rows], indent=2)
    header = ("MODEL", "VERSION", "LABELS", "TASK", "SIZE", "INPUTS", "OUTPUTS", "FUNCTION")
    table: list[tuple[Any, ...]] = [header]
    for r in rows:
        labels = ",".join(r.labels) + ("*" if r.default else "")
        table.append(
            (
                r.model,
                r.version,
                labels or "-",
                r.task,
                _size(r.bytes),
                " ".join(r.inputs),
                " ".join(r.outputs),
                r.function or "(none)",
            )
        )
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in table]
    lines.append("* the version a request without version or label gets")
    return "\n".join(line.rstrip() for line in lines)


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1024 or unit == "MB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024  # type: ignore[assignment]
    return f"{count} B"
