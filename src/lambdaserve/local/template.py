"""Read a SAM template the way the local runtime needs it: functions, layers, routes, triggers.

One reader for the whole repository (scripts use it too). It understands CloudFormation's
short-form tags, merges `Globals`, and resolves the intrinsics a function's configuration
uses (`!Ref`, `!Sub`, `!GetAtt`, `!Join`, `!If` ...) with local values: a function's name
is its logical id, a bucket's name is a local one, pseudo parameters are fixed.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lambdaserve.local.errors import LocalError

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
BUCKET = "AWS::S3::Bucket"
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"
# Lambda's defaults when neither the function nor Globals set them.
DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128


def _yaml_loader() -> type[Any]:
    """A SafeLoader that reads `!Tag value` as CloudFormation's long form (`Fn::Tag`)."""
    import yaml  # dev-only dependency; imported here so importing this module stays cheap

    class CfnLoader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    def construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "Condition":
            return {"Condition": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    CfnLoader.add_multi_constructor("!", construct)
    return CfnLoader


def load_document(path: Path) -> dict[str, Any]:
    """Parse a template file; every problem becomes one readable LocalError."""
    import yaml

    try:
        text = path.read_text()
    except FileNotFoundError:
        raise LocalError(f"template not found: {path}") from None
    except OSError as exc:
        raise LocalError(f"cannot read template {path}: {exc.strerror}") from None
    try:
        doc = yaml.load(text, Loader=_yaml_loader())
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise LocalError(f"{path} does not parse: {where}{exc.problem}") from None
    except yaml.YAMLError as exc:
        raise LocalError(f"{path} does not parse: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("Resources"), dict):
        raise LocalError(f"{path} is not a SAM template: no Resources mapping")
    return doc


@dataclass(frozen=True)
class HttpRoute:
    """One HttpApi route key (`GET /models/{name}`, `ANY /{proxy+}` or `$default`)."""

    method: str
    path: str
    function: str

    @property
    def key(self) -> str:
        return "$default" if self.path == "$default" else f"{self.method} {self.path}"


@dataclass(frozen=True)
class S3Trigger:
    """An S3 event source: object events in a bucket, filtered by key prefix and suffix."""

    function: str
    bucket: str  # logical id of the bucket resource
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def matches(self, key: str, event_name: str = "s3:ObjectCreated:Put") -> bool:
        wanted = any(
            event_name == e or (e.endswith(":*") and event_name.startswith(e[:-1]))
            for e in self.events
        )
        return wanted and key.startswith(self.prefix) and key.endswith(self.suffix)


@dataclass(frozen=True)
class Layer:
    logical_id: str
    content_uri: Path
    build_method: str | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str
    handler: str
    runtime: str
    code_uri: Path
    timeout: int = DEFAULT_TIMEOUT
    memory: int = DEFAULT_MEMORY
    environment: Mapping[str, str] = field(default_factory=dict)
    layers: tuple[str, ...] = ()
    log_format: str | None = None
    log_level: str | None = None
    routes: tuple[HttpRoute, ...] = ()
    s3_triggers: tuple[S3Trigger, ...] = ()

    @property
    def python_version(self) -> tuple[int, int]:
        match = re.fullmatch(r"python(\d+)\.(\d+)", self.runtime)
        if not match:
            raise LocalError(
                f"{self.logical_id}: runtime {self.runtime!r} is not a python runtime; "
                "the local runtime runs python functions only"
            )
        return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True)
class Template:
    path: Path
    functions: Mapping[str, Function]
    layers: Mapping[str, Layer]
    buckets: Mapping[str, str]  # logical id -> local bucket name
    region: str = DEFAULT_REGION

    def function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise LocalError(
                f"unknown function {logical_id!r} in {self.path.name}; functions: {known}"
            ) from None

    @property
    def routes(self) -> list[HttpRoute]:
        return [r for f in self.functions.values() for r in f.routes]

    @property
    def s3_triggers(self) -> list[S3Trigger]:
        return [t for f in self.functions.values() for t in f.s3_triggers]


def stack_name(template_dir: Path) -> str:
    """samconfig.toml's default stack name, else the directory's name (as `sam deploy`)."""
    config = template_dir / "samconfig.toml"
    try:
        data = tomllib.loads(config.read_text())
        name = data["default"]["global"]["parameters"]["stack_name"]
        if isinstance(name, str) and name:
            return name
    except (OSError, KeyError, TypeError, tomllib.TOMLDecodeError):
        pass
    return template_dir.resolve().name or "local"


def _kebab(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"-\1", name).lower()


class Resolver:
    """Evaluates intrinsic functions against local stand-ins for the deployed resources."""

    def __init__(
        self,
        doc: Mapping[str, Any],
        stack: str,
        region: str = DEFAULT_REGION,
        overrides: Mapping[str, str] | None = None,
    ) -> None:
        self.resources: Mapping[str, Any] = doc.get("Resources") or {}
        self.mappings: Mapping[str, Any] = doc.get("Mappings") or {}
        self.conditions: Mapping[str, Any] = doc.get("Conditions") or {}
        self.region = region
        self.stack = stack
        self.params: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT_ID,
            "AWS::StackName": stack,
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack}/local",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NoValue": None,
        }
        for name, spec in (doc.get("Parameters") or {}).items():
            if isinstance(spec, dict) and "Default" in spec:
                self.params[name] = spec["Default"]
        self.params.update(overrides or {})

    # -- local names of resources
    def bucket_name(self, logical_id: str) -> str:
        props = (self.resources.get(logical_id) or {}).get("Properties") or {}
        if "BucketName" in props:
            name = self.resolve(props["BucketName"], f"{logical_id}.BucketName")
            return str(name).lower()
        return f"{self.stack}-{_kebab(logical_id)}".lower()

    def ref(self, name: str, where: str) -> Any:
        if name in self.params:
            return self.params[name]
        resource = self.resources.get(name)
        if resource is None:
            raise LocalError(f"{where}: !Ref {name}: no such parameter or resource")
        kind = resource.get("Type")
        if kind == LAYER:
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:layer:{name}:1"
        if kind == BUCKET:
            return self.bucket_name(name)
        return name  # functions (and the rest) are known locally by their logical id

    def get_att(self, name: str, attribute: str, where: str) -> str:
        resource = self.resources.get(name)
        if resource is None:
            raise LocalError(f"{where}: !GetAtt {name}.{attribute}: no such resource")
        kind = resource.get("Type")
        if attribute == "Arn" and kind == FUNCTION:
            return f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        if attribute == "Arn" and kind == BUCKET:
            return f"arn:aws:s3:::{self.bucket_name(name)}"
        if attribute == "Arn":
            return f"arn:aws:local:{self.region}:{ACCOUNT_ID}:{name}"
        return f"{name}.{attribute}"

    def _sub(self, value: Any, where: str) -> str:
        text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"
            if token in variables:
                return str(self.resolve(variables[token], where))
            if "." in token and token not in self.params:
                name, attribute = token.split(".", 1)
                return self.get_att(name, attribute, where)
            return str(self.ref(token, where))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def condition(self, name: str, where: str) -> bool:
        if name not in self.conditions:
            raise LocalError(f"{where}: unknown condition {name}")
        return bool(self.resolve(self.conditions[name], where))

    def resolve(self, value: Any, where: str) -> Any:
        """Evaluate every intrinsic inside `value`; `where` names it in error messages."""
        if isinstance(value, list):
            items = [self.resolve(v, where) for v in value]
            return [v for v in items if v is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(str(arg), where)
            if key == "Condition" and isinstance(arg, str):
                return self.condition(arg, where)
            if key.startswith("Fn::"):
                return self._function(key[4:], arg, where)
        return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}

    def _function(self, name: str, arg: Any, where: str) -> Any:
        if name == "Sub":
            return self._sub(arg, where)
        if name == "GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return self.get_att(str(parts[0]), str(self.resolve(parts[1], where)), where)
        args = self.resolve(arg, where)
        if name == "Join":
            return str(args[0]).join(str(v) for v in args[1])
        if name == "Select":
            return args[1][int(args[0])]
        if name == "Split":
            return str(args[1]).split(str(args[0]))
        if name == "Base64":
            import base64

            return base64.b64encode(str(args).encode()).decode()
        if name == "FindInMap":
            return self.mappings[args[0]][args[1]][args[2]]
        if name == "Equals":
            return args[0] == args[1]
        if name == "Not":
            return not args[0]
        if name == "And":
            return all(args)
        if name == "Or":
            return any(args)
        if name == "If":
            chosen = arg[1] if self.condition(str(arg[0]), where) else arg[2]
            return self.resolve(chosen, where)
        raise LocalError(f"{where}: Fn::{name} cannot be resolved locally")


def _merge_globals(globals_: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rules: maps merge (resource wins), lists append, scalars are replaced."""
    merged: dict[str, Any] = dict(globals_)
    for key, value in props.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = _merge_globals(base, value)
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = base + value
        else:
            merged[key] = value
    return merged


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        raise LocalError(f"environment value {value!r} is not a string")
    return "" if value is None else str(value)


def _layer_id(value: Any, resolver: Resolver, where: str) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    resolved = str(resolver.resolve(value, where))
    raise LocalError(f"{where}: layer {resolved!r} is not a layer of this template (use !Ref)")


def _events(
    logical_id: str, events: Mapping[str, Any], resolver: Resolver
) -> tuple[list[HttpRoute], list[S3Trigger]]:
    routes: list[HttpRoute] = []
    triggers: list[S3Trigger] = []
    for name, event in events.items():
        where = f"{logical_id}.Events.{name}"
        kind = event.get("Type")
        props = event.get("Properties") or {}
        if kind == "HttpApi":
            path = resolver.resolve(props.get("Path"), where)
            method = str(resolver.resolve(props.get("Method", "ANY"), where)).upper()
            if path is None:  # no Path and Method: the API's $default route
                routes.append(HttpRoute("ANY", "$default", logical_id))
            else:
                routes.append(
                    HttpRoute(
                        "ANY" if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" else method,
                        str(path),
                        logical_id,
                    )
                )
        elif kind == "S3":
            bucket = props.get("Bucket")
            if not (isinstance(bucket, dict) and "Ref" in bucket):
                raise LocalError(f"{where}: Bucket must be !Ref to a bucket of this template")
            raw_events = resolver.resolve(props.get("Events", []), where)
            rules = ((props.get("Filter") or {}).get("S3Key") or {}).get("Rules") or []
            filters = {
                str(r.get("Name", "")).lower(): str(resolver.resolve(r.get("Value", ""), where))
                for r in rules
            }
            triggers.append(
                S3Trigger(
                    function=logical_id,
                    bucket=str(bucket["Ref"]),
                    events=tuple([raw_events] if isinstance(raw_events, str) else raw_events),
                    prefix=filters.get("prefix", ""),
                    suffix=filters.get("suffix", ""),
                )
            )
    return routes, triggers


def _function(
    logical_id: str,
    resource: Mapping[str, Any],
    globals_: Mapping[str, Any],
    base: Path,
    resolver: Resolver,
) -> Function:
    props = _merge_globals(globals_, resource.get("Properties") or {})
    where = logical_id
    if props.get("PackageType") == "Image":
        raise LocalError(f"{where}: image functions are not supported by the local runtime")
    code_uri = resolver.resolve(props.get("CodeUri"), f"{where}.CodeUri")
    if not isinstance(code_uri, str):
        raise LocalError(f"{where}: CodeUri must be a local directory, got {code_uri!r}")
    handler = resolver.resolve(props.get("Handler"), f"{where}.Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise LocalError(f"{where}: Handler must look like module.function, got {handler!r}")
    variables = ((props.get("Environment") or {}).get("Variables")) or {}
    environment = {
        k: _env_value(resolver.resolve(v, f"{where}.Environment.{k}")) for k, v in variables.items()
    }
    logging_config = resolver.resolve(props.get("LoggingConfig") or {}, f"{where}.LoggingConfig")
    routes, triggers = _events(logical_id, props.get("Events") or {}, resolver)
    return Function(
        logical_id=logical_id,
        handler=handler,
        runtime=str(resolver.resolve(props.get("Runtime", ""), f"{where}.Runtime")),
        code_uri=(base / code_uri).resolve(),
        timeout=int(resolver.resolve(props.get("Timeout", DEFAULT_TIMEOUT), where)),
        memory=int(resolver.resolve(props.get("MemorySize", DEFAULT_MEMORY), where)),
        environment=environment,
        layers=tuple(_layer_id(v, resolver, f"{where}.Layers") for v in props.get("Layers") or []),
        log_format=logging_config.get("LogFormat"),
        log_level=logging_config.get("ApplicationLogLevel"),
        routes=tuple(routes),
        s3_triggers=tuple(triggers),
    )


def load(
    path: Path,
    region: str = DEFAULT_REGION,
    parameters: Mapping[str, str] | None = None,
    stack: str | None = None,
) -> Template:
    """Read `path` into functions, layers and buckets with local names and absolute paths."""
    doc = load_document(path)
    base = path.resolve().parent
    # A built template (.aws-sam/build/template.yaml) belongs to the project next to .aws-sam.
    project = base.parent.parent if base.parent.name == ".aws-sam" else base
    resolver = Resolver(doc, stack or stack_name(project), region, parameters)
    globals_ = (doc.get("Globals") or {}).get("Function") or {}
    functions: dict[str, Function] = {}
    layers: dict[str, Layer] = {}
    buckets: dict[str, str] = {}
    for logical_id, resource in doc["Resources"].items():
        if not isinstance(resource, dict):
            raise LocalError(f"{path}: resource {logical_id} is not a mapping")
        kind = resource.get("Type")
        if kind == FUNCTION:
            functions[logical_id] = _function(logical_id, resource, globals_, base, resolver)
        elif kind == LAYER:
            props = resource.get("Properties") or {}
            uri = resolver.resolve(props.get("ContentUri"), f"{logical_id}.ContentUri")
            if not isinstance(uri, str):
                raise LocalError(f"{logical_id}: ContentUri must be a local directory")
            method = (resource.get("Metadata") or {}).get("BuildMethod")
            layers[logical_id] = Layer(logical_id, (base / uri).resolve(), method)
        elif kind == BUCKET:
            buckets[logical_id] = resolver.bucket_name(logical_id)
    for function in functions.values():
        for layer in function.layers:
            if layer not in layers:
                raise LocalError(f"{function.logical_id}: layer {layer} is not in the template")
        for trigger in function.s3_triggers:
            if trigger.bucket not in buckets:
                raise LocalError(
                    f"{function.logical_id}: S3 event bucket {trigger.bucket} is not an "
                    "AWS::S3::Bucket of this template"
                )
    return Template(path.resolve(), functions, layers, buckets, region)
