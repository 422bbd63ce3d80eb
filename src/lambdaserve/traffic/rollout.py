"""A model function's rollout parts, built once at init: the policy source, selector, shadow.

`dataplane.compose` installs them: the selector picks the version, the shadow stage sits
innermost, around the model. A function without traffic.json and without an override
parameter (and the batch job, which serves every model) gets none of it and pays nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lambdaserve import snapstart
from lambdaserve.dataplane.plane import DataPlane
from lambdaserve.settings import Settings
from lambdaserve.traffic import rng
from lambdaserve.traffic.selector import TrafficSelector
from lambdaserve.traffic.shadow import ShadowStage
from lambdaserve.traffic.source import PolicySource, policy_source


@dataclass(frozen=True)
class Rollout:
    source: PolicySource
    selector: TrafficSelector
    shadow: ShadowStage | None


def rollout(settings: Settings, plane: DataPlane) -> Rollout | None:
    name = settings.model_name
    if name is None or plane.served != frozenset({name}):
        return None
    repository = plane.repository
    layer = repository.traffic(name)  # a malformed traffic.json stops init here
    if layer is None and settings.traffic_parameter is None:
        return None
    source = policy_source(
        repository, name, settings.traffic_parameter, settings.traffic_ttl_seconds
    )
    shadow = None
    if settings.traffic_parameter is not None or (layer is not None and layer.shadow):
        classifier = plane.manifest(name).is_classifier
        shadow = ShadowStage(source, plane.model, classifier)
    # Restored SnapStart environments must not share one random sequence, and the override
    # read at snapshot time is as old as the snapshot.
    snapstart.after_restore("traffic-rng", rng.reseed)
    if source.override is not None:
        snapstart.after_restore("traffic-override", source.override.expire)
    return Rollout(source, TrafficSelector(source, plane.resolve), shadow)
