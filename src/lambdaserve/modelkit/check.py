"""`lambdaserve check`: the repository is servable and the template follows it (CI runs it).

Every version loads in the pinned onnxruntime through the serving code itself (which
refuses a model.json that disagrees with its graph); labels and traffic policies name
existing versions; every model has exactly its function, routes, forwarding entry and
invoke permission; every function with its layers fits Lambda's 250 MB.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from lambdaserve.errors import LambdaserveError
from lambdaserve.modelkit import naming, traffic, wiring
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.repository import ModelRepository

LIMIT_BYTES = 250 * 1024 * 1024  # Lambda: function code + layers, unzipped (MiB)


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def check(project: Project, build_dir: Path | None = None) -> Report:
    report = Report()
    repo = ModelRepository(project.models)
    names = repo.names()
    for name in names:
        _check_model(repo, name, report)
    if not project.template.is_file():
        report.problems.append(f"template not found: {project.template}")
        return report
    try:
        tpl = wiring.Template(project.template.read_text())
    except ModelKitError as exc:
        report.problems.append(exc.message)
        return report
    _check_wiring(tpl, names, report)
    _check_sizes(project, build_dir, report)
    if not report.problems:
        report.lines.append(f"ok: {len(names)} models, repository and template agree")
    return report


def _check_model(repo: ModelRepository, name: str, report: Report) -> None:
    from lambdaserve.model import OnnxModel

    versions = repo.versions(name)
    for version in versions:
        where = f"{name} version {version}"
        try:
            manifest = repo.manifest(name, version)
            if manifest.in_s3 and not manifest.onnx_path.is_file():
                # Only in the bucket (publish-models checked it; the function verifies it).
                report.lines.append(f"{where}: stored in S3, no local model.onnx to load")
                continue
            model = OnnxModel(manifest)
            model.warm()
        except LambdaserveError as exc:
            cause = f": {exc.__cause__}" if exc.__cause__ else ""
            report.problems.append(f"{where}: {exc}{cause}".splitlines()[0])
            continue
        except Exception as exc:  # warm() runs onnxruntime, whose errors are not exported
            report.problems.append(f"{where}: inference fails: {str(exc).splitlines()[0]}")
            continue
        raw = json.loads((manifest.directory / "model.json").read_text())
        digest = hashlib.sha256(manifest.onnx_path.read_bytes()).hexdigest()
        if raw.get("sha256") not in (None, digest):
            report.problems.append(f"{where}: model.json sha256 does not match model.onnx")
        if str(raw.get("name", name)) != name or str(raw.get("version", version)) != version:
            report.problems.append(
                f"{where}: model.json says {raw.get('name')!r} version {raw.get('version')!r}"
            )
    try:
        labels = repo.labels(name)
    except LambdaserveError as exc:
        report.problems.append(str(exc))
        labels = {}
    try:
        named = traffic.read(repo.root / name) or []
    except ModelKitError as exc:
        report.problems.append(exc.message)
        named = []
    unknown = [n for n in named if n not in versions and n not in labels]
    if unknown:
        report.problems.append(
            f"{name}: traffic.json names missing versions or labels: {', '.join(unknown)}"
        )
    report.lines.append(
        f"{name}: versions {', '.join(versions)} load"
        + (f"; labels {', '.join(f'{k}->{v}' for k, v in labels.items())}" if labels else "")
    )


def _check_wiring(tpl: wiring.Template, names: list[str], report: Report) -> None:
    functions = tpl.model_functions()
    for name in names:
        logical_id = functions.get(name)
        if logical_id is None:
            report.problems.append(
                f"{name}: no function in the template serves it (run `lambdaserve add-model` "
                "or copy a model function block)"
            )
            continue
        wanted = {(m, p.replace("{m}", name)) for m, p in wiring.MODEL_ROUTES}
        missing = sorted(f"{m} {p}" for m, p in wanted - tpl.routes(logical_id))
        if missing:
            report.problems.append(f"{logical_id}: missing routes {', '.join(missing)}")
    for name, logical_id in functions.items():
        if name not in names:
            report.problems.append(f"{logical_id}: serves {name!r}, which is not in the repository")
    for index in tpl.index_functions():
        _check_model_map(tpl, index, functions, names, report)


def _check_model_map(
    tpl: wiring.Template,
    index: str,
    functions: dict[str, str],
    names: list[str],
    report: Report,
) -> None:
    """A function with a model map (index, PreTraffic hook) names each model's function
    and may invoke it."""
    index_map = tpl.index_map(index)
    props = tpl.doc["Resources"][index].get("Properties") or {}
    policies = " ".join(wiring._strings(props.get("Policies") or []))
    for name in names:
        logical_id = functions.get(name)
        if logical_id is None:
            continue
        target = index_map.get(name, "")
        if not re.search(rf"\$\{{{re.escape(logical_id)}[}}.]", target):
            report.problems.append(
                f"{index}: {wiring.INDEX_ENV} does not map {name!r} to {logical_id}"
            )
        if not naming.token_pattern(logical_id).search(policies):
            report.problems.append(f"{index}: no invoke policy for {logical_id}")
    stale = sorted(set(index_map) - set(names))
    if stale:
        report.problems.append(f"{index}: {wiring.INDEX_ENV} names missing models {stale}")


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def layer_bytes(path: Path) -> int:
    """A layer's source as its build ships it: S3-stored model files stay out of it."""
    return sum(
        p.stat().st_size
        for p in path.rglob("*")
        if p.is_file() and not p.is_symlink() and not stored_in_s3(p)
    )


def stored_in_s3(path: Path) -> bool:
    """Whether `path` is the model.onnx of a version whose model.json says "store": "s3"."""
    if path.name != "model.onnx":
        return False
    try:
        return bool(json.loads((path.parent / "model.json").read_text()).get("store") == "s3")
    except (OSError, ValueError, AttributeError):
        return False


def installed_bytes(requirements: Path) -> int:
    """Size of the installed distributions a requirements file pins (a layer estimate)."""
    total = 0
    for line in requirements.read_text().splitlines():
        spec = line.split("#", 1)[0].strip()
        if not spec:
            continue
        name = re.split(r"[=<>!~\[; ]", spec, maxsplit=1)[0]
        try:
            files = importlib.metadata.distribution(name).files or []
        except importlib.metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    return total


def _check_sizes(project: Project, build_dir: Path | None, report: Report) -> None:
    from lambdaserve.local import template
    from lambdaserve.local.errors import LocalError

    try:
        tpl = template.load(project.template)
    except LocalError as exc:
        report.problems.append(exc.message)
        return
    layer_sizes: dict[str, tuple[int, str]] = {}
    for layer in tpl.layers.values():
        built = build_dir / layer.logical_id if build_dir else None
        requirements = layer.content_uri / "requirements.txt"
        if built is not None and built.is_dir():
            layer_sizes[layer.logical_id] = (dir_bytes(built), "built")
        elif requirements.is_file():
            layer_sizes[layer.logical_id] = (installed_bytes(requirements), "estimated")
        else:
            layer_sizes[layer.logical_id] = (layer_bytes(layer.content_uri), "source")
    worst = 0
    for function in tpl.functions.values():
        parts = {"code": dir_bytes(function.code_uri)}
        parts.update({layer: layer_sizes[layer][0] for layer in function.layers})
        total = sum(parts.values())
        worst = max(worst, total)
        detail = ", ".join(f"{k} {v / 2**20:.1f} MB" for k, v in parts.items())
        report.lines.append(
            f"size: {function.logical_id} {total / 2**20:.1f} MB of 250 MB ({detail})"
        )
        if total > LIMIT_BYTES:
            report.problems.append(
                f"{function.logical_id}: {total / 2**20:.1f} MB with its layers exceeds "
                f"Lambda's 250 MB ({detail}); keep the biggest models in S3 "
                "(add-model --store s3)"
            )
    kinds = ", ".join(f"{k} {v / 2**20:.1f} MB ({how})" for k, (v, how) in layer_sizes.items())
    report.lines.append(f"sizes: largest function {worst / 2**20:.1f} MB of 250 MB; {kinds}")
