"""`lambdaserve`: run the template's functions locally, without Docker.

    lambdaserve invoke <FunctionId> --event events/<sample>.json
    lambdaserve serve            # what `make serve` runs

Exit codes: 0 success, 1 the handler failed (its Lambda error JSON is on stdout),
2 a usage problem (unknown function, bad template or event, busy port ...).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from lambdaserve.local.errors import LocalError

if TYPE_CHECKING:  # the runtime's modules load on use, so `--help` stays fast
    from lambdaserve.local.runtime import LocalLambda
    from lambdaserve.local.template import Template

DEFAULT_BUILD_DIR = Path(".aws-sam") / "build"


class Console:
    """Thread-safe log lines on stderr, prefixed by the function they come from."""

    def __init__(self, prefix: bool) -> None:
        self.prefix = prefix
        self._lock = threading.Lock()

    def __call__(self, source: str, line: str) -> None:
        text = f"[{source}] {line}\n" if self.prefix else f"{line}\n"
        with self._lock:
            sys.stderr.write(text)
            sys.stderr.flush()

    def warn(self, message: str) -> None:
        self("lambdaserve", f"warning: {message}")


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def _parameters(raw: Sequence[str] | None) -> dict[str, str]:
    """`--parameter-overrides Key=Value ...` as `sam` takes them."""
    result: dict[str, str] = {}
    for item in raw or []:
        for pair in item.split():
            key, sep, value = pair.partition("=")
            if not sep or not key:
                raise LocalError(f"--parameter-overrides wants Key=Value, got {pair!r}")
            result[key] = value
    return result


def _env_vars(path: str | None) -> dict[str, dict[str, str]]:
    """`--env-vars file.json`, sam's format: {"Parameters": {...}, "<FunctionId>": {...}}."""
    if not path:
        return {}
    data = _read_json(path, "--env-vars file")
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise LocalError(
            f'{path}: --env-vars wants {{"FunctionId": {{"NAME": "value"}}}} '
            '(or "Parameters" for every function)'
        )
    return {k: {n: str(v) for n, v in vs.items()} for k, vs in data.items()}


def _read_json(path: str, what: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except FileNotFoundError:
        raise LocalError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LocalError(f"cannot read {what} {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        name = "stdin" if path == "-" else path
        raise LocalError(
            f"{what} {name} is not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None


def _template(args: argparse.Namespace) -> Template:
    from lambdaserve.local import template

    path = Path(args.template)
    if args.built:
        path = Path(args.build_dir) / "template.yaml"
        if not path.is_file():
            raise LocalError(
                f"no built template at {path}: run `sam build` (or `make build`) first, "
                "or leave out --built to run the source tree"
            )
    return template.load(path, _region(), _parameters(args.parameter_overrides))


def _runtime(
    args: argparse.Namespace,
    tpl: Template,
    console: Console,
    endpoints: Mapping[str, str],
) -> LocalLambda:
    from lambdaserve.local.runtime import LocalLambda

    return LocalLambda(
        tpl,
        built=args.built,
        endpoints=endpoints,
        env_overrides=_env_vars(args.env_vars),
        console=console,
        max_instances=getattr(args, "instances", 1),
        warn=console.warn,
        snapstart=args.snapstart,
    )


def cmd_invoke(args: argparse.Namespace) -> int:
    from lambdaserve.local.lambda_api import LambdaApiService
    from lambdaserve.local.services import ServeOptions
    from lambdaserve.local.stores import open_stores

    tpl = _template(args)
    function = tpl.function(args.function)
    console = Console(prefix=False)
    if args.event is None:
        console.warn("no --event given: invoking with {}")
        payload = b"{}"
    else:
        payload = json.dumps(_read_json(args.event, "event file")).encode()
    # Functions that invoke other functions (the index forwarding TF Serving paths) reach
    # them through a local Lambda API, as they would reach Lambda.
    api = LambdaApiService(tpl, "127.0.0.1", 0)
    # The SSM parameters (traffic overrides) and tables it reads, as `serve` provides them.
    stores = open_stores(tpl, ServeOptions(stores_port=0))
    endpoints = {**api.endpoints, **(stores.endpoints if stores else {})}
    runtime = _runtime(args, tpl, console, endpoints)
    api.start(runtime, console)
    try:
        result = runtime.invoke(function.logical_id, payload)
    finally:
        api.stop()
        if stores is not None:
            stores.stop()
        runtime.close()
    sys.stdout.write(result.payload.decode(errors="replace") + "\n")
    sys.stdout.flush()
    return 0 if result.ok else 1


def cmd_serve(args: argparse.Namespace) -> int:
    from lambdaserve.local import banner, services
    from lambdaserve.local.samples import samples

    tpl = _template(args)
    console = Console(prefix=True)
    options = services.ServeOptions(
        host=args.host,
        port=args.port,
        lambda_port=args.lambda_port,
        s3_port=args.s3_port,
        stores_port=args.stores_port,
        s3=not args.no_s3,
        sfn_port=args.sfn_port,
        sqs_port=args.sqs_port,
        sqs=not args.no_sqs,
        auth=args.auth != "none",
    )
    opened: list[services.Service] = []
    runtime: LocalLambda | None = None
    try:
        for service in services.open_all(tpl, options):  # every port is bound here
            opened.append(service)
        endpoints = {k: v for service in opened for k, v in service.endpoints.items()}
        runtime = _runtime(args, tpl, console, endpoints)
        for service in opened:
            service.start(runtime, console)
        print(banner.text(tpl, opened, samples(tpl.project), args.built), flush=True)
        if args.warm:
            for logical_id in tpl.functions:
                threading.Thread(target=runtime.warm, args=(logical_id,), daemon=True).start()
        _wait_for_signal()
    finally:
        console("lambdaserve", "stopping")
        for service in reversed(opened):
            service.stop()
        if runtime is not None:
            runtime.close()
    return 0


def _wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM (both end `serve` cleanly)."""

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    # A shell starts background jobs with SIGINT ignored; Ctrl-C must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    forever = threading.Event()
    try:
        while not forever.wait(3600):
            pass
    except KeyboardInterrupt:
        return


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-t", "--template", default="template.yaml", help="SAM template (default: template.yaml)"
    )
    parser.add_argument(
        "--built",
        action="store_true",
        help="run the `sam build` artifacts (function and layer directories) instead of the "
        "source tree, with only the stdlib and boto3 besides them, as in Lambda",
    )
    parser.add_argument(
        "--build-dir",
        default=str(DEFAULT_BUILD_DIR),
        help=f"where `sam build` wrote them (default: {DEFAULT_BUILD_DIR})",
    )
    parser.add_argument(
        "--env-vars",
        metavar="FILE",
        help='JSON overrides, as sam: {"Parameters": {...}, "FunctionId": {"NAME": "value"}}',
    )
    parser.add_argument(
        "--parameter-overrides", nargs="+", metavar="KEY=VALUE", help="template parameters"
    )
    parser.add_argument(
        "--snapstart",
        action="store_true",
        help="functions with SnapStart on (SnapStart: ApplyOn: PublishedVersions) init as "
        "SnapStart does: before-snapshot hooks after init, after-restore hooks before the "
        "first invocation",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="lambdaserve",
        description="Run the functions of a SAM template locally, as Lambda would, without Docker.",
    )
    commands = top.add_subparsers(dest="command", required=True)
    invoke = commands.add_parser(
        "invoke",
        help="invoke one function once (like `sam local invoke`)",
        description="Response JSON on stdout; logs and the REPORT line on stderr.",
    )
    invoke.add_argument("function", help="logical id of the function in the template")
    invoke.add_argument(
        "-e", "--event", metavar="FILE", help="event JSON file, or - for stdin (default: {})"
    )
    _common(invoke)
    invoke.set_defaults(run=cmd_invoke)
    serve = commands.add_parser(
        "serve",
        help="HTTP API, Lambda API and S3 on loopback (like `sam local start-api`)",
        description="Routes HTTP requests by the template's HttpApi routes to the functions.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("-p", "--port", type=int, default=3000, help="HTTP API port (3000)")
    serve.add_argument("--lambda-port", type=int, default=3001, help="Lambda API port (3001)")
    serve.add_argument(
        "--s3-port", type=int, default=3002, help="local S3 port (3002; 0: any free port)"
    )
    serve.add_argument(
        "--sfn-port",
        type=int,
        default=0,
        help="local Step Functions port (0: any free port; the functions are told it)",
    )
    serve.add_argument("--no-s3", action="store_true", help="do not start local S3")
    serve.add_argument(
        "--stores-port",
        type=int,
        default=3005,
        help="local SSM parameters and DynamoDB tables of the template (3005; 0: any free port)",
    )
    serve.add_argument(
        "--sqs-port", type=int, default=3003, help="local SQS/Kinesis port (3003; 0: any)"
    )
    serve.add_argument("--no-sqs", action="store_true", help="do not start local SQS/Kinesis")
    serve.add_argument(
        "--auth",
        choices=("template", "none"),
        default="template",
        help="template: routes need what the template's HttpApi Auth says, as in AWS (SigV4 "
        "with your AWS credentials or printed dummy ones; a printed local JWT); none: every "
        "route open, for a quick demo",
    )
    serve.add_argument(
        "--instances", type=int, default=1, help="max concurrent environments per function (1)"
    )
    serve.add_argument("--warm", action="store_true", help="start every function now")
    _common(serve)
    serve.set_defaults(run=cmd_serve)
    from lambdaserve.modelkit.cli import register

    register(commands)  # add-model, remove-model, models, check
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
        return code
    except LocalError as error:
        print(f"lambdaserve: {error.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
