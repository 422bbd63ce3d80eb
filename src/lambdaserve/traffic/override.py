"""The runtime override of a traffic policy: an SSM parameter, read with a short TTL cache.

Like SageMaker's UpdateEndpointWeightsAndCapacities, weights and the shadow change without
a redeploy: `aws ssm put-parameter --overwrite --name <parameter> --value '{"split": ...}'`
takes effect in every container within the TTL. The value has traffic.json's schema; `{}`
(the value the template creates) or a missing parameter means "no override".

Reads happen off the request path: when the TTL has passed, `current()` starts one
background read and keeps answering with the value it has, so no request ever waits for
SSM. Nothing is read at init: the first `current()` (the first request) starts the first
read, so boto3's import and client (~0.2-0.5 s of CPU) stay out of Lambda's Init Duration
instead of competing with the model load for the function's small CPU share. A new
container therefore follows traffic.json until its first read lands, a fraction of a second
after its first request. A read that fails (throttling, network, permissions) keeps the last value
and is logged: it never fails a request. The boto3 client is created on first use, after
any mock is in place, with short timeouts and no retries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from lambdaserve import aws_clients

logger = logging.getLogger("lambdaserve.traffic")

Clock = Callable[[], float]
NO_OVERRIDE: dict[str, Any] = {}


class ParameterOverride:
    """The decoded JSON of one SSM parameter, refreshed at most once per `ttl_seconds`.

    `background=False` reads inline instead (tests, scripts): deterministic, but the read's
    latency lands on the caller.
    """

    def __init__(
        self,
        parameter: str,
        ttl_seconds: float,
        clock: Clock = time.monotonic,
        client_factory: Callable[[], Any] | None = None,
        background: bool = True,
    ) -> None:
        self.parameter = parameter
        self.ttl_seconds = ttl_seconds
        self.background = background
        self._clock = clock
        self._client_factory = client_factory or _ssm_client
        self._client: Any = None
        self._value: object = NO_OVERRIDE
        self._expires = float("-inf")
        self._reading = threading.Lock()
        self.reads = 0  # completed reads, successful or not
        self._failing = False

    def current(self) -> object:
        """The override now: decoded JSON ({} when there is none); never waits on SSM."""
        now = self._clock()
        if now >= self._expires and self._reading.acquire(blocking=False):
            self._expires = now + self.ttl_seconds
            if self.background:
                threading.Thread(target=self._refresh, name="traffic-override", daemon=True).start()
            else:
                self._refresh()
        return self._value

    def expire(self) -> None:
        """Read again on the next call (after a SnapStart restore: the TTL clock jumped)."""
        self._expires = float("-inf")

    def wait(self, timeout: float) -> bool:
        """Block until no read is in flight (tests, and scripts that need the value now)."""
        if not self._reading.acquire(timeout=timeout):
            return False
        self._reading.release()
        return True

    def _refresh(self) -> None:
        try:
            self._value = self._read(self._value)
        finally:
            self.reads += 1
            self._reading.release()

    def _read(self, previous: object) -> object:
        try:
            if self._client is None:
                self._client = self._client_factory()
            raw = self._client.get_parameter(Name=self.parameter)["Parameter"]["Value"]
        except Exception as exc:
            if type(exc).__name__ == "ParameterNotFound":
                return NO_OVERRIDE
            # Logged when reads start failing, not once per TTL while they keep failing.
            log = logger.debug if self._failing else logger.error
            self._failing = True
            log(
                "traffic override %s unreadable, keeping the previous policy: %s",
                self.parameter,
                exc,
            )
            return previous
        if self._failing:
            self._failing = False
            logger.warning("traffic override %s readable again", self.parameter)
        try:
            return json.loads(raw)
        except ValueError:
            logger.error("traffic override %s is not JSON, ignoring it", self.parameter)
            return NO_OVERRIDE


def _ssm_client() -> Any:
    """In Lambda's runtime; boto3 is imported only when an override is configured."""
    return aws_clients.bounded("ssm", 1.0)
