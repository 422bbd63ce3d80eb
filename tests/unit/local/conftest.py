"""A small real template with tiny handlers, for the runtime's behaviours the models lack."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdaserve.local import template
from lambdaserve.local.runtime import LocalLambda

HANDLERS = """
import base64, json, os, sys, time

COUNT = {"n": 0}


def echo(event, context):
    COUNT["n"] += 1
    return {
        "event": event,
        "count": COUNT["n"],
        "request_id": context.aws_request_id,
        "remaining": context.get_remaining_time_in_millis(),
        "function_name": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "env": {k: v for k, v in os.environ.items() if not k.startswith("_")},
        "path": sys.path,
        "cwd": os.getcwd(),
    }


def boom(event, context):
    raise ValueError("boom: " + str(event.get("why", "")))


def sleepy(event, context):
    time.sleep(float(event.get("seconds", 5)))
    return {"slept": True}


def chatty(event, context):
    print("printed to stdout")
    print("printed to stderr", file=sys.stderr)
    return "done"


def leave(event, context):
    os._exit(3)


def unmarshallable(event, context):
    return {"when": object()}


def http(event, context):
    # Answers with the result the request body describes.
    body = event.get("body") or "null"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body)
    return json.loads(body)


def spawn(event, context):
    # A process of the function's own (like the batch job's parser): part of the sandbox.
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print("spawned", child.pid)
    return {"pid": child.pid}


def log_lines(event, context):
    import logging

    logging.getLogger("app").warning("warned %s", event.get("n"))
    print("printed", event.get("n"))
    return {"context": repr(context)}


ORDER = []
try:  # SnapStart hooks, as a function registers them (the runtime provides the module)
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:
    pass
else:
    register_before_snapshot(ORDER.append, "before_snapshot")
    register_after_restore(ORDER.append, "after_restore")


def hooks(event, context):
    ORDER.append("invoke")
    return ORDER


def try_import(event, context):
    try:
        __import__(event["module"])
        return {"imported": True}
    except ImportError as exc:
        return {"imported": False, "error": str(exc)}
"""

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Greeting:
    Type: String
    Default: hello
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    MemorySize: 256
    CodeUri: code/
    Layers: [!Ref DataLayer]
    Environment:
      Variables:
        GREETING: !Ref Greeting
        DATA_DIR: /opt/data
Resources:
  DataLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layers/data/
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.echo
      Environment:
        Variables:
          TARGET: !Sub '{"boom":"${Boom}"}'
      Events:
        Get: {Type: HttpApi, Properties: {Path: /echo, Method: GET}}
        Items: {Type: HttpApi, Properties: {Path: "/items/{id}", Method: ANY}}
  Boom:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.boom
      Events:
        Boom: {Type: HttpApi, Properties: {Path: /boom, Method: ANY}}
  Sleepy:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.sleepy
      Timeout: 1
      Events:
        Slow: {Type: HttpApi, Properties: {Path: /slow, Method: GET}}
  Chatty:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.chatty
  Leave:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.leave
  Unmarshallable:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.unmarshallable
  Http:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.http
      Events:
        Any: {Type: HttpApi, Properties: {Path: "/http/{proxy+}", Method: ANY}}
  Spawn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.spawn
  LogLines:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.log_lines
  JsonLogs:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.log_lines
      LoggingConfig: {LogFormat: JSON, ApplicationLogLevel: INFO}
  Hooks:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.hooks
  TryImport:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.try_import
  Missing:
    Type: AWS::Serverless::Function
    Properties:
      Handler: handlers.nothing_here
  Broken:
    Type: AWS::Serverless::Function
    Properties:
      Handler: nosuchmodule.handler
"""


def write_project(root: Path) -> Path:
    """Write the template, its handler module and a content layer; returns the template."""
    (root / "code").mkdir(parents=True)
    (root / "code" / "handlers.py").write_text(textwrap.dedent(HANDLERS))
    (root / "layers" / "data").mkdir(parents=True)
    (root / "layers" / "data" / "hello.txt").write_text("hi")
    path = root / "template.yaml"
    path.write_text(TEMPLATE)
    return path


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def small_template(project: Path) -> template.Template:
    return template.load(project)


@pytest.fixture
def runtime(small_template: template.Template) -> Iterator[LocalLambda]:
    lines: list[tuple[str, str]] = []
    local = LocalLambda(small_template, console=lambda f, line: lines.append((f, line)))
    local.lines = lines  # type: ignore[attr-defined]
    yield local
    local.close()
