"""`lambdaserve add-model`: convert, validate, describe and wire one model version.

Order matters: everything that can refuse the model (conversion, onnxruntime loading,
agreement with the source, finite outputs, accuracy after optimization) runs before
anything is written; then the version directory, labels, template and events change
together or not at all.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from lambdaserve.modelkit import events as model_events
from lambdaserve.modelkit import graph, manifest, metrics, naming, samples, validation, wiring
from lambdaserve.modelkit import optimize as optimizer
from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project
from lambdaserve.modelkit.sources import Source, load_source
from lambdaserve.modelkit.staging import Transaction
from lambdaserve.repository import NAME_PATTERN, ModelRepository, TensorSpec

Report = Callable[[str], None]
MIN_MEMORY, MAX_MEMORY = 128, 10240


@dataclass(frozen=True)
class AddOptions:
    name: str
    source: Path
    version: str | None = None
    label: str | None = None
    memory: int | None = None
    holdout: Path | None = None
    target: str = "target"
    description: str = ""
    rtol: float = 1e-4
    atol: float = 1e-4
    optimize: bool = False
    quantize: str | None = None
    max_accuracy_drop: float = 0.01
    store: str = "layer"  # "s3": kept in the model store bucket, not the layer


@dataclass
class Added:
    name: str
    version: str
    directory: Path
    function: str | None  # the new function's logical id; None for a new version
    manifest: dict[str, Any]
    events: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _version(repo: ModelRepository, name: str, wanted: str | None) -> tuple[str, list[str]]:
    existing = repo.versions(name) if name in repo.names() else []
    version = (
        naming.check_version(wanted) if wanted else str(int(existing[-1]) + 1 if existing else 1)
    )
    if version in existing or (repo.root / name / version).exists():
        raise ModelKitError(f"model {name!r} already has version {version}")
    return version, existing


def _feeds(
    source: Source, inputs: tuple[TensorSpec, ...], options: AddOptions
) -> tuple[dict[str, np.ndarray], samples.Holdout | None]:
    if options.holdout is None:
        return samples.generated(inputs), None
    if len(inputs) != 1 or len(inputs[0].shape) != 2 or inputs[0].shape[1] < 0:
        raise ModelKitError("--holdout needs a model with one 2-D input of known width")
    holdout = samples.read_holdout(
        options.holdout,
        inputs[0].shape[1],
        source.feature_names,
        options.target,
        text=inputs[0].datatype == "BYTES",
    )
    return {inputs[0].name: holdout.rows}, holdout


def run(sess: Any, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    names = [o.name for o in sess.get_outputs()]
    try:
        values = sess.run(names, dict(feeds))
    except Exception as exc:  # onnxruntime's exception types are not exported
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelKitError(f"onnxruntime fails on the sample rows: {reason}") from None
    return dict(zip(names, (np.asarray(v) for v in values), strict=True))


def _metrics(
    source: Source, holdout: samples.Holdout | None, outputs: Mapping[str, np.ndarray]
) -> dict[str, float]:
    if holdout is None or holdout.targets is None:
        return {}
    if source.task == "classification" and "label" in outputs:
        return metrics.classification(holdout.targets, outputs, source.class_labels or ())
    if source.task == "regression":
        return metrics.regression(holdout.targets, outputs)
    return {}


def _memory(requested: int | None, model_bytes: int) -> int:
    if requested is not None:
        if not MIN_MEMORY <= requested <= MAX_MEMORY:
            raise ModelKitError(f"--memory must be {MIN_MEMORY}..{MAX_MEMORY} MB")
        return requested
    # Room for the runtime (~300 MB), the session (a few times the graph) and requests.
    return max(1024, min(MAX_MEMORY, 64 * math.ceil((512 + 4 * model_bytes / 2**20) / 64)))


def storage_mb(model_bytes: int) -> int:
    """Ephemeral storage for an S3-stored model: the file, a download's margin, 100 MB spare."""
    return max(512, 64 * math.ceil((1.1 * model_bytes / 2**20 + 100) / 64))


def add_model(project: Project, options: AddOptions, report: Report = print) -> Added:
    name = naming.check_name(options.name)
    if options.store not in ("layer", "s3"):
        raise ModelKitError(f"--store must be layer or s3, not {options.store!r}")
    in_s3 = options.store == "s3"
    repo = ModelRepository(project.models)
    version, existing = _version(repo, name, options.version)
    if options.label is not None and not NAME_PATTERN.fullmatch(options.label):
        raise ModelKitError(f"invalid label {options.label!r}")
    template_text = project.template.read_text() if project.template.is_file() else None
    if template_text is None:
        raise ModelKitError(f"template not found: {project.template}")

    source = load_source(options.source)
    graph.set_description(source.model, name, version, options.description or source.description)
    onnx_bytes = source.model.SerializeToString()
    sess = graph.session(onnx_bytes)
    inputs, outputs = graph.signature(sess)
    feeds, holdout = _feeds(source, inputs, options)
    actual = run(sess, feeds)
    rows = next(iter(feeds.values())).shape[0]
    if source.reference is not None:
        expected = source.reference(feeds)
        validation.check_finite(expected, "the source model")
        validation.check_finite(actual, "the ONNX model")
        validation.compare(actual, expected, rtol=options.rtol, atol=options.atol)
        report(f"validated: ONNX agrees with the source on {rows} sample rows")
    else:
        validation.check_finite(actual, "the ONNX model")
        report(f"validated: onnxruntime scores {rows} sample rows with finite outputs")
    notes: list[str] = []
    if options.optimize or options.quantize:
        result = optimizer.apply(
            onnx_bytes,
            feeds,
            actual,
            optimize=options.optimize,
            quantize=options.quantize,
            task=source.task,
            max_accuracy_drop=options.max_accuracy_drop,
            targets=holdout.targets if holdout else None,
        )
        onnx_bytes = result.onnx_bytes
        actual = result.outputs
        notes += result.lines
        for line in result.lines:
            report(line)
        inputs, outputs = graph.signature(graph.session(onnx_bytes))

    feature_names = source.feature_names or (holdout.feature_names if holdout else ())
    document = manifest.build(
        name=name,
        version=version,
        task=source.task,
        description=options.description or source.description,
        inputs=inputs,
        outputs=outputs,
        feature_names=feature_names,
        class_labels=source.class_labels,
        metrics=_metrics(source, holdout, actual),
        source={**source.info, "file": options.source.name, "validation_rows": rows},
        onnx_bytes=onnx_bytes,
    )
    if in_s3:
        document["store"] = "s3"
    new_model = not existing
    function = naming.function_id(name) if new_model else None
    new_template = template_text
    if new_model:
        memory = _memory(options.memory, len(onnx_bytes))
        description = document["description"] or f"{name} {source.task} model API"
        new_template = wiring.add_model(
            template_text,
            name,
            memory,
            description[:256],
            s3_storage_mb=storage_mb(len(onnx_bytes)) if in_s3 else None,
        )
    elif in_s3 and not wiring.reads_store(template_text, name):
        raise ModelKitError(
            f"the function of model {name!r} reads no model store bucket: remove the model "
            "and add it again with --store s3"
        )
    elif options.memory is not None:
        notes.append("--memory applies to a new model's function; the existing one keeps its own")

    with Transaction() as tx:
        scratch = tx.scratch(project.models)
        staged = scratch / version
        staged.mkdir()
        (staged / "model.onnx").write_bytes(onnx_bytes)
        (staged / "model.json").write_text(json.dumps(document, indent=2) + "\n")
        tx.move_dir(staged, project.models / name / version)
        if options.label is not None:
            labels = repo.labels(name) if existing else {}
            labels[options.label] = version
            tx.write_file(
                project.models / name / "labels.json",
                (json.dumps(labels, indent=2) + "\n").encode(),
            )
        if new_template != template_text:
            tx.write_file(project.template, new_template.encode())
        written = _write_events(tx, project, name, feeds)
    where = project.models / name / version
    report(f"added {name} version {version}: {where} ({len(onnx_bytes):,} bytes)")
    if function:
        report(f"wired {function} into {project.template.name}; events in {project.events}")
    if in_s3:
        report(
            f"stored in S3: {where / 'model.onnx'} stays out of the layer; upload it with "
            "`lambdaserve publish-models --bucket <ModelStoreBucket output>`"
        )
    return Added(name, version, where, function, document, written, notes)


def _write_events(
    tx: Transaction, project: Project, name: str, feeds: Mapping[str, np.ndarray]
) -> list[Path]:
    """The model's sample events, from the validated rows (files replaced atomically)."""
    repo = ModelRepository(project.models)
    return model_events.replace_model_events(tx, project, repo, name, feeds)
