"""The one place a function's dataplane is assembled from settings: selector, then stages.

New stages are added here, in order (outermost first), and nowhere else: routers, codecs
and the batch job never name a stage.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from lambdaserve import snapstart
from lambdaserve.cache.admission import Doorkeeper
from lambdaserve.cache.lru import LruCache
from lambdaserve.cache.table import SharedTable, dynamodb_client
from lambdaserve.dataplane.cache import CacheStage
from lambdaserve.dataplane.plane import DataPlane
from lambdaserve.dataplane.selection import PathSelector, Selector
from lambdaserve.dataplane.stages import Stage
from lambdaserve.model import SessionConfig
from lambdaserve.model_store import S3ModelStore
from lambdaserve.observability.stage import metrics_stage
from lambdaserve.repository import ModelRepository
from lambdaserve.settings import Settings
from lambdaserve.traffic.rollout import Rollout, rollout


def model_store(settings: Settings) -> S3ModelStore | None:
    """Where S3-stored model versions come from (None: no bucket configured)."""
    if not settings.model_bucket:
        return None
    return S3ModelStore(settings.model_bucket, settings.model_prefix, settings.model_cache_dir)


def session_config(settings: Settings) -> SessionConfig:
    return SessionConfig(settings.intra_op_threads, settings.inter_op_threads)


def selector(settings: Settings, plane: DataPlane, traffic: Rollout | None = None) -> Selector:
    """The traffic policy's if the model has one, else the path's version or the default."""
    return traffic.selector if traffic is not None else PathSelector(plane.resolve)


def cache_stage(settings: Settings, plane: DataPlane | None = None) -> CacheStage:
    """The LRU (on by default), then the shared table when one is named."""
    lru = None
    if settings.cache_entries > 0 and settings.cache_bytes > 0:
        lru = LruCache(settings.cache_entries, settings.cache_bytes, settings.cache_ttl_seconds)
    table = None
    if settings.cache_table:
        timeout = settings.cache_table_timeout_ms / 1000
        table = SharedTable(
            settings.cache_table, settings.cache_ttl_seconds, partial(dynamodb_client, timeout)
        )
    doorkeeper = None
    if settings.cache_admit_after > 1 and (lru is not None or table is not None):
        doorkeeper = Doorkeeper(4 * max(settings.cache_entries, 1))
    stage = CacheStage(lru, table, doorkeeper)
    if table is not None and plane is not None and settings.model_name:
        name = settings.model_name
        stage.digest_models(name, plane.versions(name), plane.repository.manifest)
    snapstart.after_restore("prediction-cache", stage.after_restore)
    return stage


def stages(settings: Settings, plane: DataPlane, traffic: Rollout | None = None) -> list[Stage]:
    """The stages around the model, outermost first; the shadow sits innermost, by the model
    (a cache hit is not shadowed: no model runs)."""
    found: list[Stage] = []
    if settings.metrics and settings.model_name:
        # Outermost: it sees every answer, a cache hit included (README, Observability).
        found.append(metrics_stage(settings))
    if settings.tracing:
        from lambdaserve.observability.tracing import TracingStage, powertools_tracing

        found.append(TracingStage(powertools_tracing()))  # only finishes: no request-path cost
    found.append(cache_stage(settings, plane))
    if traffic is not None and traffic.shadow is not None:
        found.append(traffic.shadow)
    return found


def create_dataplane(
    settings: Settings,
    served: Iterable[str] | None = None,
    config: SessionConfig | None = None,
) -> DataPlane:
    plane = DataPlane(
        ModelRepository(settings.model_repository, model_store(settings)),
        config or session_config(settings),
        served=served,
    )
    traffic = rollout(settings, plane)
    plane.configure(selector(settings, plane, traffic), stages(settings, plane, traffic))
    return plane
