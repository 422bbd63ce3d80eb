"""What `lambdaserve serve` prints on start: where things are, the models, commands to try."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from lambdaserve.local.template import Template


@dataclass(frozen=True)
class ModelLine:
    name: str
    versions: list[str]
    labels: dict[str, str]
    features: int


def models(directory: Path | None) -> list[ModelLine]:
    """The models the functions will serve (read from the model repository directory)."""
    if directory is None or not directory.is_dir():
        return []
    from lambdaserve.repository import ModelRepository

    repository = ModelRepository(directory)
    lines = []
    for name in repository.names():
        versions = repository.versions(name)
        manifest = repository.manifest(name, versions[-1])
        shape = manifest.inputs[0].shape if manifest.inputs else [0]
        features = int(shape[-1]) if shape and int(shape[-1]) > 0 else 0
        lines.append(ModelLine(name, versions, repository.labels(name), features))
    return lines


def _sample(project: Path, model: ModelLine) -> str:
    """A real request body: the sample event's if there is one, else zeros of the right width."""
    event = project / "events" / "api" / f"{model.name}_predict.json"
    try:
        body = json.loads(event.read_text()).get("body")
        if isinstance(body, str) and body:
            return body
    except (OSError, ValueError):
        pass
    return json.dumps({"features": [0.0] * model.features})


def text(
    template: Template,
    api: str,
    lambda_api: str,
    s3: str | None,
    model_lines: list[ModelLine],
    built: bool,
) -> str:
    project = template.path.parent
    if project.parent.name == ".aws-sam":
        project = project.parent.parent
    mode = f"built artifacts in {template.path.parent}" if built else "source tree"
    out = [
        f"lambdaserve local runtime: {template.path.name} ({mode}), "
        f"{len(template.functions)} functions, {len(template.routes)} routes",
        f"  HTTP API    {api}",
        f"  Lambda API  {lambda_api}   (aws lambda invoke --endpoint-url {lambda_api} ...)",
    ]
    if s3:
        out.append(f"  S3          {s3}")
        for trigger in template.s3_triggers:
            bucket = template.buckets[trigger.bucket]
            where = f"s3://{bucket}/{trigger.prefix}*{trigger.suffix}"
            out.append(f"              {where} -> {trigger.function}")
    if model_lines:
        out.append("Models:")
        for m in model_lines:
            labels = ", ".join(f"{k}->{v}" for k, v in m.labels.items())
            extra = f"; labels {labels}" if labels else ""
            out.append(f"  {m.name:<16} versions {', '.join(m.versions)}{extra}")
    out.append("Try:")
    out.append(f"  curl -s {api}/health")
    out.append(f"  curl -s {api}/models")
    if model_lines:
        first = min(model_lines, key=lambda m: m.features)  # the shortest curl line
        body = _sample(project, first)
        rows = json.loads(body).get("features")
        json_header = "-H 'content-type: application/json'"
        out.append(f"  curl -s -X POST {api}/models/{first.name}/predict {json_header} -d '{body}'")
        if isinstance(rows, list) and rows and not isinstance(rows[0], (dict, list)):
            tf = json.dumps({"instances": [rows]})
            v2 = json.dumps(
                {
                    "inputs": [
                        {"name": "input", "shape": [1, len(rows)], "datatype": "FP32", "data": rows}
                    ]
                }
            )
            out.append(
                f"  curl -s -X POST {api}/v1/models/{first.name}:predict {json_header} -d '{tf}'"
            )
            out.append(
                f"  curl -s -X POST {api}/v2/models/{first.name}/infer {json_header} -d '{v2}'"
            )
    if s3 and template.s3_triggers:
        trigger = template.s3_triggers[0]
        bucket = template.buckets[trigger.bucket]
        name = min(model_lines, key=lambda m: m.features).name if model_lines else "model"
        prefix = (
            trigger.prefix if trigger.prefix.endswith(f"{name}/") else f"{trigger.prefix}{name}/"
        )
        out.append(f"  aws --endpoint-url {s3} s3 cp data.csv s3://{bucket}/{prefix}")
        out.append(f"  aws --endpoint-url {s3} s3 ls --recursive s3://{bucket}/results/")
    sample_event = project / "events" / "api" / "iris_predict.json"
    if sample_event.is_file() and "IrisFunction" in template.functions:
        event = sample_event.relative_to(project)
        out.append(
            f"  aws lambda invoke --endpoint-url {lambda_api} --function-name IrisFunction "
            f"--cli-binary-format raw-in-base64-out --payload file://{event} out.json"
        )
    out.append("Ctrl-C stops everything.")
    return "\n".join(out)
