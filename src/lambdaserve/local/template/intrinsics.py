"""CloudFormation intrinsic functions, evaluated against local stand-ins for the resources.

A function's name is its logical id, a bucket's name is a local one (its BucketName, else
`<stack>-<kebab-case id>`), pseudo parameters are fixed (account 123456789012), parameters
take their Default unless overridden. `!Ref`, `!Sub`, `!GetAtt`, `!Join`, `!Select`,
`!Split`, `!Base64`, `!FindInMap`, `!If` and the condition functions are understood.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdaserve.local.errors import LocalError

FUNCTION = "AWS::Serverless::Function"
LAYER = "AWS::Serverless::LayerVersion"
BUCKET = "AWS::S3::Bucket"
SSM_PARAMETER = "AWS::SSM::Parameter"
TABLE = "AWS::DynamoDB::Table"
QUEUE = "AWS::SQS::Queue"
KINESIS_STREAM = "AWS::Kinesis::Stream"
EVENT_BUS = "AWS::Events::EventBus"
EVENT_SOURCE_MAPPING = "AWS::Lambda::EventSourceMapping"
ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-east-1"


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

    def resource_name(self, logical_id: str, name_property: str) -> str:
        """A queue's, stream's or bus's local name: its name property, else stack-kebab-id."""
        props = (self.resources.get(logical_id) or {}).get("Properties") or {}
        if name_property in props:
            return str(self.resolve(props[name_property], f"{logical_id}.{name_property}"))
        return f"{self.stack}-{_kebab(logical_id)}".lower()

    def queue_url(self, logical_id: str) -> str:
        """The URL SQS gives the queue (a local SQS answers to it: the name is its last part)."""
        name = self.resource_name(logical_id, "QueueName")
        return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{name}"

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
        if kind == QUEUE:
            return self.queue_url(name)
        if kind == KINESIS_STREAM:
            return self.resource_name(name, "Name")
        if kind == EVENT_BUS:
            return self.resource_name(name, "Name")
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
        if kind == QUEUE:
            queue = self.resource_name(name, "QueueName")
            if attribute == "QueueName":
                return queue
            if attribute == "QueueUrl":
                return self.queue_url(name)
            if attribute == "Arn":
                return f"arn:aws:sqs:{self.region}:{ACCOUNT_ID}:{queue}"
        if attribute == "Arn" and kind == KINESIS_STREAM:
            stream = self.resource_name(name, "Name")
            return f"arn:aws:kinesis:{self.region}:{ACCOUNT_ID}:stream/{stream}"
        if attribute == "Arn" and kind == EVENT_BUS:
            bus = self.resource_name(name, "Name")
            return f"arn:aws:events:{self.region}:{ACCOUNT_ID}:event-bus/{bus}"
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
