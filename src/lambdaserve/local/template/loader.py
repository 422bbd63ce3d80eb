"""Template file -> Template: each function's properties with Globals merged and intrinsics
resolved, layers, buckets, SSM parameters and DynamoDB tables (those whose Condition holds)
by logical id, directories made absolute."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.template import http_auth, sam_globals
from lambdaserve.local.template.document import load_document, stack_name
from lambdaserve.local.template.intrinsics import (
    BUCKET,
    DEFAULT_REGION,
    EVENT_BUS,
    EVENT_SOURCE_MAPPING,
    FUNCTION,
    KINESIS_STREAM,
    LAYER,
    QUEUE,
    SSM_PARAMETER,
    TABLE,
    Resolver,
)
from lambdaserve.local.template.model import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    Function,
    Layer,
    Queue,
    Table,
    Template,
)
from lambdaserve.local.template.sources import EventSource, parse_events, sqs
from lambdaserve.local.template.state_machines import (
    STATE_MACHINE,
    StateMachine,
    parse_state_machine,
)


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


def _function(
    logical_id: str,
    resource: Mapping[str, Any],
    globals_: Mapping[str, Any],
    base: Path,
    resolver: Resolver,
) -> Function:
    props = sam_globals.merge(globals_, resource.get("Properties") or {})
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
    snap_start = resolver.resolve(props.get("SnapStart") or {}, f"{where}.SnapStart")
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
        events=parse_events(logical_id, props.get("Events") or {}, resolver),
        snap_start=isinstance(snap_start, Mapping)
        and snap_start.get("ApplyOn") == "PublishedVersions",
    )


def _queue(logical_id: str, resource: Mapping[str, Any], resolver: Resolver) -> Queue:
    props = resolver.resolve(resource.get("Properties") or {}, logical_id)
    redrive = props.get("RedrivePolicy") or {}
    target = (resource.get("Properties") or {}).get("RedrivePolicy", {}).get("deadLetterTargetArn")
    dead_letter = None
    if isinstance(target, dict) and "Fn::GetAtt" in target:
        dead_letter = str(target["Fn::GetAtt"][0])
    return Queue(
        logical_id,
        resolver.resource_name(logical_id, "QueueName"),
        int(props.get("VisibilityTimeout", 30)),
        dead_letter,
        int(redrive.get("maxReceiveCount", 0)),
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
    globals_ = sam_globals.function_globals(doc)
    functions: dict[str, Function] = {}
    layers: dict[str, Layer] = {}
    buckets: dict[str, str] = {}
    ssm_parameters: dict[str, str] = {}
    tables: dict[str, Table] = {}
    machines: dict[str, StateMachine] = {}
    queues: dict[str, Queue] = {}
    streams: dict[str, str] = {}
    buses: dict[str, str] = {}
    mappings: dict[str, list[EventSource]] = {}
    for logical_id, resource in doc["Resources"].items():
        if not isinstance(resource, dict):
            raise LocalError(f"{path}: resource {logical_id} is not a mapping")
        kind = resource.get("Type")
        condition = resource.get("Condition")
        if isinstance(condition, str) and not resolver.condition(condition, logical_id):
            continue  # not created in this configuration (and no function may name it)
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
        elif kind == SSM_PARAMETER:
            name, value = _ssm_parameter(logical_id, resource, resolver)
            ssm_parameters[name] = value
        elif kind == TABLE:
            table = _table(logical_id, resource, resolver)
            tables[table.name] = table
        elif kind == STATE_MACHINE:
            machines[logical_id] = parse_state_machine(logical_id, resource, resolver)
        elif kind == QUEUE:
            queues[logical_id] = _queue(logical_id, resource, resolver)
        elif kind == KINESIS_STREAM:
            streams[logical_id] = resolver.resource_name(logical_id, "Name")
        elif kind == EVENT_BUS:
            buses[logical_id] = resolver.resource_name(logical_id, "Name")
        elif kind == EVENT_SOURCE_MAPPING:
            found = sqs.mapping(logical_id, resource.get("Properties") or {}, resolver)
            mappings.setdefault(found.function, []).append(found)
    for function_id, found_mappings in mappings.items():
        if function_id not in functions:
            raise LocalError(f"event source mapping for {function_id}, not a function here")
        function = functions[function_id]
        functions[function_id] = replace(function, events=(*function.events, *found_mappings))
    for function in functions.values():
        for layer in function.layers:
            if layer not in layers:
                raise LocalError(f"{function.logical_id}: layer {layer} is not in the template")
    auth = http_auth.parse(doc["Resources"], resolver)
    return Template(
        path.resolve(),
        functions,
        layers,
        buckets,
        region,
        ssm_parameters,
        tables,
        state_machines=machines,
        queues=queues,
        streams=streams,
        event_buses=buses,
        http_auth=auth,
    )


def _ssm_parameter(
    logical_id: str, resource: Mapping[str, Any], resolver: Resolver
) -> tuple[str, str]:
    props = resolver.resolve(resource.get("Properties") or {}, f"{logical_id}.Properties")
    name, value = props.get("Name"), props.get("Value")
    if not isinstance(name, str) or not isinstance(value, str):
        raise LocalError(f"{logical_id}: an SSM parameter needs a Name and a string Value locally")
    return name, value


def _table(logical_id: str, resource: Mapping[str, Any], resolver: Resolver) -> Table:
    props = resolver.resolve(resource.get("Properties") or {}, f"{logical_id}.Properties")
    keys, attributes = props.get("KeySchema"), props.get("AttributeDefinitions")
    if not isinstance(keys, list) or not isinstance(attributes, list):
        raise LocalError(f"{logical_id}: a table needs KeySchema and AttributeDefinitions")
    ttl = props.get("TimeToLiveSpecification") or {}
    name = props.get("TableName") or resolver.ref(logical_id, logical_id)
    return Table(
        logical_id,
        str(name),
        tuple(keys),
        tuple(attributes),
        ttl.get("AttributeName") if ttl.get("Enabled") in (True, "true") else None,
    )
