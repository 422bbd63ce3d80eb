"""The model tooling's subcommands, registered on `lambdaserve`'s argument parser.

Exit codes: 0 done, 1 refused (the source, the repository or the template is not right:
one line on stderr says why; nothing was changed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdaserve.modelkit.errors import ModelKitError
from lambdaserve.modelkit.project import Project

Command = Callable[[argparse.Namespace], int]


def _project(args: argparse.Namespace) -> Project:
    base = Project.at(Path(args.root))
    return Project(
        models=Path(args.models) if args.models else base.models,
        template=Path(args.template) if args.template else base.template,
        events=Path(args.events) if args.events else base.events,
    )


def _guarded(command: Command) -> Command:
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ModelKitError as error:
            print(f"lambdaserve {args.command}: {error.message}", file=sys.stderr)
            return 1

    return run


def _add(args: argparse.Namespace) -> int:
    from lambdaserve.modelkit.add import AddOptions, add_model

    add_model(
        _project(args),
        AddOptions(
            name=args.name,
            source=Path(args.source),
            version=args.version,
            label=args.label,
            memory=args.memory,
            holdout=Path(args.holdout) if args.holdout else None,
            target=args.target,
            description=args.description,
            rtol=args.rtol,
            atol=args.atol,
            optimize=args.optimize,
            quantize=args.quantize,
            max_accuracy_drop=args.max_accuracy_drop,
            store=args.store,
        ),
    )
    return 0


def _publish(args: argparse.Namespace) -> int:
    import boto3

    from lambdaserve.modelkit.publish import publish_models

    client = boto3.client("s3", endpoint_url=args.endpoint_url) if args.endpoint_url else None
    publish_models(_project(args), args.bucket, client or boto3.client("s3"), args.prefix)
    return 0


def _remove(args: argparse.Namespace) -> int:
    from lambdaserve.modelkit.remove import remove_model

    remove_model(_project(args), args.name, args.version)
    return 0


def _models(args: argparse.Namespace) -> int:
    from lambdaserve.modelkit.listing import listing, render

    rows = listing(_project(args))
    print(render(rows, as_json=args.json))
    return 0


def _check(args: argparse.Namespace) -> int:
    from lambdaserve.modelkit.check import check

    report = check(_project(args), build_dir=Path(args.build_dir) if args.build_dir else None)
    for line in report.lines:
        print(line)
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    if report.problems:
        print(f"lambdaserve check: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


def _locations(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", help="project directory (default: .)")
    parser.add_argument("--models", help="model repository (default: ROOT/layers/models)")
    parser.add_argument("-t", "--template", help="SAM template (default: ROOT/template.yaml)")
    parser.add_argument("--events", help="sample events directory (default: ROOT/events/api)")


def register(commands: Any) -> None:
    """Add add-model, remove-model, models and check to `lambdaserve`'s subcommands."""
    add = commands.add_parser(
        "add-model",
        help="import a model (ONNX, scikit-learn, LightGBM, PyTorch) and wire it in",
        description="Converts SOURCE to ONNX, validates it against the source on sample rows, "
        "writes layers/models/NAME/VERSION, wires a function into the template and writes "
        "its events. Pickle/joblib files run code when loaded: only add models you trust.",
    )
    add.add_argument("name", help="model name (letters, digits, _ . -)")
    add.add_argument("source", help=".onnx, joblib/pickle, LightGBM .txt, or PyTorch .pt file")
    add.add_argument("--version", help="version number (default: the next one)")
    add.add_argument("--label", help="point this label (e.g. stable, canary) at the new version")
    add.add_argument("--memory", type=int, help="a new model's function memory in MB")
    add.add_argument("--holdout", help="CSV with a header: features and a target column")
    add.add_argument("--target", default="target", help="target column of --holdout (target)")
    add.add_argument("--description", default="", help="one line for model.json and the function")
    add.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance (1e-4)")
    add.add_argument("--atol", type=float, default=1e-4, help="absolute tolerance (1e-4)")
    add.add_argument(
        "--optimize", action="store_true", help="save onnxruntime's graph optimizations offline"
    )
    add.add_argument("--quantize", choices=["int8", "fp16"], help="dynamic int8 or float16")
    add.add_argument(
        "--max-accuracy-drop",
        type=float,
        default=0.01,
        help="refuse --optimize/--quantize results that lose more (default 0.01)",
    )
    add.add_argument(
        "--store",
        choices=["layer", "s3"],
        default="layer",
        help="s3: a model too big for the layer, fetched from the model store bucket at init",
    )
    _locations(add)
    add.set_defaults(run=_guarded(_add))

    publish = commands.add_parser(
        "publish-models",
        help="upload the S3-stored model versions to the model store bucket",
        description='Uploads model.onnx of every version whose model.json says "store": "s3" '
        "(skipping objects that already have its sha256). Run before `sam deploy`.",
    )
    publish.add_argument("--bucket", required=True, help="the stack's ModelStoreBucket output")
    publish.add_argument("--prefix", default="models/", help="key prefix (default: models/)")
    publish.add_argument("--endpoint-url", help="another S3 endpoint (e.g. the local one)")
    _locations(publish)
    publish.set_defaults(run=_guarded(_publish))

    remove = commands.add_parser(
        "remove-model",
        help="remove a model version, or the whole model and its function",
        description="Refuses a version that a label or traffic.json still names.",
    )
    remove.add_argument("name")
    remove.add_argument("--version", help="only this version (default: the whole model)")
    _locations(remove)
    remove.set_defaults(run=_guarded(_remove))

    models = commands.add_parser("models", help="list the model repository")
    models.add_argument("--json", action="store_true", help="JSON instead of a table")
    _locations(models)
    models.set_defaults(run=_guarded(_models))

    check = commands.add_parser(
        "check",
        help="validate the repository against itself and the template",
        description="Every version loads and matches its model.json; labels and traffic "
        "policies name existing versions; every model has its function and routes; every "
        "function fits Lambda's 250 MB.",
    )
    check.add_argument("--build-dir", help="measure the runtime layer in this sam build directory")
    _locations(check)
    check.set_defaults(run=_guarded(_check))
