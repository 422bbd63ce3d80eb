"""The runtime override of a traffic policy: an SSM parameter, read with a short TTL cache.

Like SageMaker's UpdateEndpointWeightsAndCapacities, weights and the shadow change without
a redeploy: `aws ssm put-parameter --overwrite --name <parameter> --value '{"split": ...}'`
takes effect in every container within the TTL. The value has traffic.json's schema; `{}`
(the value the template creates) or a missing parameter means "no override". A read that
fails (throttling, network, permissions) keeps the last value read and is logged: it never
fails a request. The boto3 client is created on first use, after any mock is in place, and
with short timeouts and no retries, because a refresh runs on the request path once a TTL.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("lambdaserve.traffic")

Clock = Callable[[], float]
NO_OVERRIDE: dict[str, Any] = {}


class ParameterOverride:
    """The decoded JSON of one SSM parameter, refreshed at most once per `ttl_seconds`."""

    def __init__(
        self,
        parameter: str,
        ttl_seconds: float,
        clock: Clock = time.monotonic,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.parameter = parameter
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._client_factory = client_factory or _ssm_client
        self._client: Any = None
        self._value: object = NO_OVERRIDE
        self._expires = float("-inf")

    def current(self) -> object:
        """The override now: decoded JSON ({} when there is none); cheap inside the TTL."""
        now = self._clock()
        if now >= self._expires:
            self._expires = now + self.ttl_seconds
            self._value = self._read(self._value)
        return self._value

    def expire(self) -> None:
        """Read again on the next call (after a SnapStart restore: the TTL clock jumped)."""
        self._expires = float("-inf")

    def _read(self, previous: object) -> object:
        try:
            if self._client is None:
                self._client = self._client_factory()
            raw = self._client.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except Exception as exc:
            if type(exc).__name__ == "ParameterNotFound":
                return NO_OVERRIDE
            logger.error(
                "traffic override %s unreadable, keeping the previous policy: %s",
                self.parameter,
                exc,
            )
            return previous
        try:
            return json.loads(raw)
        except ValueError:
            logger.error("traffic override %s is not JSON, ignoring it", self.parameter)
            return NO_OVERRIDE


def _ssm_client() -> Any:
    import boto3  # in Lambda's runtime; imported only when an override is configured
    from botocore.config import Config

    config = Config(connect_timeout=1, read_timeout=1, retries={"max_attempts": 1})
    return boto3.client("ssm", config=config)
