"""The local stand-ins for the AWS services that feed functions events, in one registry.

`lambdaserve serve` opens one service per event source type the template uses (HttpApi:
the HTTP API gateway; S3: a moto S3 server with bucket notifications) plus the Lambda
Invoke API. Opening binds the port, so every endpoint is known before the functions'
environment is built (it names the endpoints: AWS_ENDPOINT_URL_S3 ...); `start` then
begins delivering events to the runtime. A new source type (SQS, Kinesis, Step
Functions) is a template parser (template/sources/) plus a factory registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample
from lambdaserve.local.template import Template

Log = Callable[[str, str], None]  # (source, line)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 3000  # HTTP API
    lambda_port: int = 3001
    s3_port: int = 3002
    stores_port: int = 3005  # SSM parameters and DynamoDB tables
    s3: bool = True
    sfn_port: int = 0  # Step Functions (the template's state machines); 0: any free port
    sqs_port: int = 3003  # SQS, and Kinesis and EventBridge when the template has them
    sqs: bool = True
    auth: bool = True  # the HttpApi's authorizers enforced (False: `--auth none`)


class Service(Protocol):
    """A local AWS service: its endpoints, what the banner says about it, its lifecycle."""

    @property
    def endpoints(self) -> Mapping[str, str]:
        """Variables that point the functions' AWS SDKs at this service."""
        ...

    def describe(self) -> list[str]:
        """Banner lines: where it listens and what it feeds."""
        ...

    def examples(self, samples: list[Sample]) -> list[str]:
        """Commands that work against it, built from the template and the sample events."""
        ...

    def start(self, runtime: LocalLambda, log: Log) -> None: ...

    def stop(self) -> None: ...


Factory = Callable[[Template, ServeOptions], Service | None]

REGISTRY: dict[str, Factory] = {}


def service(name: str) -> Callable[[Factory], Factory]:
    """Register the factory of one service; it answers None when the template needs none."""

    def register(factory: Factory) -> Factory:
        REGISTRY[name] = factory
        return factory

    return register


# The banner's order, whatever order the modules happened to be imported in (a test or a
# command may import sqs before gateway); a service not listed here comes after these.
BANNER_ORDER = ("HttpApi", "Lambda", "S3", "SQS", "StepFunctions", "Stores")


def registered() -> list[str]:
    """The registered service names, in banner order."""
    rank = {name: i for i, name in enumerate(BANNER_ORDER)}
    return sorted(REGISTRY, key=lambda name: rank.get(name, len(rank)))


def open_all(template: Template, options: ServeOptions) -> Iterator[Service]:
    """Open every registered service the template needs, in banner order."""
    for name in registered():
        factory = REGISTRY[name]
        opened = factory(template, options)
        if opened is not None:
            yield opened


# The registered services (imported for their @service side effect).
from lambdaserve.local import (  # noqa: E402
    gateway,
    lambda_api,
    s3,
    sqs,
    stepfunctions,
    stores,
)

__all__ = [
    "REGISTRY",
    "Factory",
    "Log",
    "ServeOptions",
    "Service",
    "gateway",
    "lambda_api",
    "open_all",
    "registered",
    "s3",
    "service",
    "sqs",
    "stepfunctions",
    "stores",
]
