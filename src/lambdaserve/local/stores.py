"""Local SSM parameters and DynamoDB tables: the template's own, on a moto server.

The model functions read a traffic override from SSM (safe rollouts) and, when the
template's parameters turn them on, use DynamoDB tables (the shared prediction cache, the
feedback table). Locally they get the same resources, created from the template with the
values it declares (only those whose Condition holds), on moto's real HTTP server: the
functions' SDKs reach it through AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_DYNAMODB, and a
user changes an override with the AWS CLI, as in AWS.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from typing import Any

from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample
from lambdaserve.local.server import moto_client, start_moto
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.template import Template


class LocalStores:
    """moto's server holding the template's SSM parameters and DynamoDB tables."""

    def __init__(self, template: Template, host: str = "127.0.0.1", port: int = 0) -> None:
        self.template = template
        self._server, self.endpoint = start_moto(
            host, port, "local SSM and DynamoDB", "--stores-port"
        )
        try:
            self._create()
        except Exception:
            self._server.stop()
            raise

    def client(self, name: str) -> Any:
        return moto_client(name, self.endpoint, self.template.region)

    def _create(self) -> None:
        ssm = self.client("ssm")
        for name, value in self.template.ssm_parameters.items():
            ssm.put_parameter(Name=name, Value=value, Type="String", Overwrite=True)
        dynamodb = self.client("dynamodb")
        existing = set(dynamodb.list_tables()["TableNames"])  # moto's state is per process
        for table in self.template.tables.values():
            if table.name in existing:
                continue
            dynamodb.create_table(
                TableName=table.name,
                KeySchema=list(table.key_schema),
                AttributeDefinitions=list(table.attributes),
                BillingMode="PAY_PER_REQUEST",
            )
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"AttributeName": table.ttl_attribute, "Enabled": True},
                )

    def stop(self) -> None:
        self._server.stop()


class StoresService:
    """The functions' SSM and DynamoDB endpoints; nothing to deliver, so `start` is empty."""

    def __init__(self, template: Template, options: ServeOptions) -> None:
        self.template = template
        self.stores = LocalStores(template, options.host, options.stores_port)

    @property
    def endpoints(self) -> Mapping[str, str]:
        found = {}
        if self.template.ssm_parameters:
            found["AWS_ENDPOINT_URL_SSM"] = self.stores.endpoint
        if self.template.tables:
            found["AWS_ENDPOINT_URL_DYNAMODB"] = self.stores.endpoint
        return found

    def describe(self) -> list[str]:
        lines = []
        if self.template.ssm_parameters:
            lines.append(f"  SSM         {self.stores.endpoint}")
            lines += [f"              {name}" for name in self.template.ssm_parameters]
        if self.template.tables:
            lines.append(f"  DynamoDB    {self.stores.endpoint}")
            lines += [f"              {name}" for name in self.template.tables]
        return lines

    def examples(self, samples: list[Sample]) -> list[str]:
        example = _example_override(self.template)
        if example is None:
            return []
        name, policy = example
        value = shlex.quote(json.dumps(policy, separators=(",", ":")))
        aws = f"aws --endpoint-url {self.stores.endpoint} ssm"
        return [f"{aws} put-parameter --overwrite --name {name} --value {value}"]

    def start(self, runtime: LocalLambda, log: Log) -> None:
        """Nothing to deliver: the functions call these services themselves."""

    def stop(self) -> None:
        self.stores.stop()


@service("Stores")
def open_stores(template: Template, options: ServeOptions) -> StoresService | None:
    if not (template.ssm_parameters or template.tables):
        return None
    return StoresService(template, options)


def _example_override(template: Template) -> tuple[str, dict[str, Any]] | None:
    """A traffic override worth trying: a 50/50 split of the two newest versions of the
    first model that has two, found in the layers its function mounts."""
    from lambdaserve.repository import ModelRepository

    for function in template.functions.values():
        name = function.environment.get("LAMBDASERVE_TRAFFIC_PARAMETER")
        model = function.environment.get("MODEL_NAME")
        if not name or not model or name not in template.ssm_parameters:
            continue
        for layer_id in function.layers:
            repository = ModelRepository(template.layers[layer_id].content_uri)
            if model in repository.names():
                versions = repository.versions(model)
                if len(versions) >= 2:
                    return name, {"split": {versions[-2]: 50, versions[-1]: 50}}
    return None
