"""SnapStart hooks: Lambda's order, named replacement, and what restored environments get."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import numpy as np
import pytest
import snapshot_restore_py
from awslambdaric import lambda_runtime_hooks_runner

from lambdaserve import snapstart
from lambdaserve.dataplane import DataPlane
from lambdaserve.model import OnnxModel
from lambdaserve.repository import ModelRepository


@pytest.fixture(autouse=True)
def no_hooks() -> Iterator[None]:
    snapstart.clear()
    yield
    snapstart.clear()


def recorder(calls: list[str], name: str) -> Callable[[], None]:
    return lambda: calls.append(name)


def test_hooks_run_in_lambdas_order_by_awss_runtime_client() -> None:
    calls: list[str] = []
    snapstart.before_snapshot("close-a", recorder(calls, "close-a"))
    snapstart.before_snapshot("close-b", recorder(calls, "close-b"))
    snapstart.after_restore("reseed", recorder(calls, "reseed"))
    snapstart.after_restore("warm", recorder(calls, "warm"))

    # What awslambdaric's bootstrap does for a `snap-start` init, around restore/next.
    lambda_runtime_hooks_runner.run_before_snapshot()
    lambda_runtime_hooks_runner.run_after_restore()

    # Before-snapshot hooks unwind (last registered first); after-restore ones run in order.
    assert calls == ["close-b", "close-a", "reseed", "warm"]
    assert snapstart.before_snapshot_hooks() == ["close-b", "close-a"]
    assert snapstart.after_restore_hooks() == ["reseed", "warm"]


def test_each_phase_is_registered_with_lambda_once() -> None:
    for i in range(3):
        snapstart.after_restore(f"hook-{i}", lambda: None)
        snapstart.before_snapshot(f"hook-{i}", lambda: None)
    ours_after = [
        f for f, _, _ in snapshot_restore_py.get_after_restore() if f == snapstart._after.run
    ]
    ours_before = [
        f for f, _, _ in snapshot_restore_py.get_before_snapshot() if f == snapstart._before.run
    ]
    assert len(ours_after) == 1
    assert len(ours_before) == 1


def test_registering_a_name_again_replaces_that_hook() -> None:
    calls: list[str] = []
    snapstart.after_restore("warm", recorder(calls, "old warm"))
    snapstart.after_restore("reseed", recorder(calls, "reseed"))
    snapstart.after_restore("warm", recorder(calls, "new warm"))

    assert snapstart.run_after_restore() == ["reseed", "warm"]
    assert calls == ["reseed", "new warm"]


def test_a_failing_hook_fails_the_restore_and_stops_the_phase() -> None:
    calls: list[str] = []

    def broken() -> None:
        raise RuntimeError("model file unreadable")

    snapstart.after_restore("first", recorder(calls, "first"))
    snapstart.after_restore("broken", broken)
    snapstart.after_restore("never", recorder(calls, "never"))

    with pytest.raises(RuntimeError, match="unreadable"):
        snapstart.run_after_restore()
    assert calls == ["first"]


def draws_after_two_restores() -> list[tuple[list[float], list[float]]]:
    """Each environment resumes with the snapshot's generator state, then Lambda's hooks run.

    (os.fork is no stand-in: Python reseeds `random` in a forked child, a snapshot does not.)
    """
    snapshot = random.getstate(), np.random.get_state()
    draws = []
    for _ in range(2):
        random.setstate(snapshot[0])
        np.random.set_state(snapshot[1])
        snapstart.run_after_restore()
        draws.append(([random.random() for _ in range(4)], np.random.random(4).tolist()))
    return draws


def test_restored_environments_draw_different_random_numbers() -> None:
    random.seed(7)  # init's generator state, captured by the snapshot
    np.random.seed(7)

    same = draws_after_two_restores()
    assert same[0] == same[1]  # the hazard: every restore repeats the snapshot's sequence
    snapstart.after_restore("reseed-random", snapstart.reseed_random)
    first, second = draws_after_two_restores()
    assert first[0] != second[0]
    assert first[1] != second[1]


def test_forget_aws_sessions_drops_boto3s_default_session() -> None:
    import boto3

    boto3.setup_default_session(region_name="eu-west-1")
    assert boto3.DEFAULT_SESSION is not None
    snapstart.forget_aws_sessions()
    assert boto3.DEFAULT_SESSION is None


def test_warm_hook_runs_every_version_init_loaded_and_only_those(
    repository: ModelRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    plane = DataPlane(repository, served=["breast_cancer"])
    plane.model("breast_cancer", "2")  # init loaded version 2 only
    warmed: list[tuple[str, str]] = []
    real_warm = OnnxModel.warm

    def counting_warm(model: OnnxModel) -> None:
        warmed.append((model.name, model.version))
        real_warm(model)

    monkeypatch.setattr(OnnxModel, "warm", counting_warm)
    snapstart.install_model_function(plane)
    snapstart.run_after_restore()

    assert warmed == [("breast_cancer", "2")]
    assert not plane.is_loaded("breast_cancer", "1")


def test_model_function_hooks(repository: ModelRepository) -> None:
    plane = DataPlane(repository, served=["iris"])
    snapstart.install_model_function(plane)
    assert snapstart.before_snapshot_hooks() == ["forget-aws-sessions"]
    assert snapstart.after_restore_hooks() == [
        "reseed-random",
        "forget-aws-sessions",
        "warm-models",
    ]
