"""create_dataplane: a function's dataplane from its settings."""

from __future__ import annotations

import numpy as np

from lambdaserve import snapstart
from lambdaserve.dataplane import DataPlane, PathSelector, RequestContext, create_dataplane
from lambdaserve.dataplane.cache import CacheStage
from lambdaserve.dataplane.compose import session_config
from lambdaserve.inference import InferenceRequest
from lambdaserve.model import SessionConfig
from lambdaserve.settings import SOURCE_MODEL_REPOSITORY, Settings


def test_a_model_function_serves_its_model_with_its_threads() -> None:
    settings = Settings(SOURCE_MODEL_REPOSITORY, "iris", intra_op_threads=2, inter_op_threads=1)
    plane = create_dataplane(settings, served=["iris"])
    assert isinstance(plane, DataPlane)
    assert plane.repository.root == SOURCE_MODEL_REPOSITORY
    assert plane.model_names() == ["iris"]
    assert plane.config == session_config(settings)
    assert plane.model("iris").session.get_session_options().intra_op_num_threads == 2


def test_the_path_picks_the_version_and_the_cache_stage_runs() -> None:
    plane = create_dataplane(Settings(SOURCE_MODEL_REPOSITORY))
    assert isinstance(plane.selector, PathSelector)
    (stage,) = plane.stages
    assert isinstance(stage, CacheStage) and stage.lru is not None and stage.table is None
    assert plane.request_headers == ("cache-control",)
    ctx = RequestContext("breast_cancer", label="canary")
    plane.select(ctx)
    x = np.zeros((1, 30), dtype=np.float32)
    assert plane.infer(ctx, InferenceRequest({"input": x})).model_version == "2"
    assert ctx.response_headers == {"x-cache": "miss"}


def test_cache_settings_size_the_lru_or_turn_it_off() -> None:
    sized = create_dataplane(
        Settings(SOURCE_MODEL_REPOSITORY, cache_entries=7, cache_bytes=1000, cache_ttl_seconds=9)
    )
    lru = sized.stages[0].lru  # type: ignore[attr-defined]
    assert (lru.max_entries, lru.max_bytes, lru.ttl_seconds) == (7, 1000, 9)
    off = create_dataplane(Settings(SOURCE_MODEL_REPOSITORY, cache_entries=0))
    assert off.stages[0].lru is None  # type: ignore[attr-defined]
    assert "prediction-cache" in snapstart.after_restore_hooks()


def test_batch_passes_its_own_session_config() -> None:
    config = SessionConfig(intra_op_threads=0)
    plane = create_dataplane(Settings(SOURCE_MODEL_REPOSITORY), config=config)
    assert plane.config is config
