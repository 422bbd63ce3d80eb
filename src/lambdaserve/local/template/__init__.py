"""Read a SAM template the way the local runtime needs it: functions, layers, event sources.

One reader for the whole repository (scripts and tests use it too), in four parts:
`document` (YAML with CloudFormation's short-form tags), `intrinsics` (`!Ref`, `!Sub` ...
resolved with local names), `sam_globals` (Globals merged into each function) and
`sources` (a registry of event source types: HttpApi and S3 today). `loader` puts them
together into the `model`'s Template.
"""

from lambdaserve.local.template.document import load_document, stack_name
from lambdaserve.local.template.intrinsics import ACCOUNT_ID, DEFAULT_REGION, Resolver
from lambdaserve.local.template.loader import load
from lambdaserve.local.template.model import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    Function,
    Layer,
    Template,
)
from lambdaserve.local.template.sources import EventSource, Unsupported
from lambdaserve.local.template.sources.http_api import HttpRoute
from lambdaserve.local.template.sources.s3 import S3Trigger

__all__ = [
    "ACCOUNT_ID",
    "DEFAULT_MEMORY",
    "DEFAULT_REGION",
    "DEFAULT_TIMEOUT",
    "EventSource",
    "Function",
    "HttpRoute",
    "Layer",
    "Resolver",
    "S3Trigger",
    "Template",
    "Unsupported",
    "load",
    "load_document",
    "stack_name",
]
