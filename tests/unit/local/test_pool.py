"""Warm environments of one function: reuse, the concurrency limit, discarding dead ones."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from lambdaserve.local import template
from lambdaserve.local.environment import Environment
from lambdaserve.local.errors import LocalError
from lambdaserve.local.pool import Pool
from lambdaserve.local.runtime import LocalLambda

pytestmark = pytest.mark.slow  # starts function processes


@pytest.fixture
def started(small_template: template.Template) -> Iterator[tuple[Pool, list[Environment]]]:
    local = LocalLambda(small_template)
    sandbox = local.sandbox("Echo")
    made: list[Environment] = []

    def start() -> Environment:
        made.append(Environment(sandbox, None))
        return made[-1]

    yield Pool(start, limit=1), made
    for environment in made:
        environment.kill()
    local.close()


def test_an_idle_environment_is_reused(started: tuple[Pool, list[Environment]]) -> None:
    pool, made = started
    first, cold = pool.acquire()
    assert cold
    pool.release(first)
    again, cold = pool.acquire()
    assert again is first and not cold and len(made) == 1


def test_the_limit_makes_a_second_caller_wait(started: tuple[Pool, list[Environment]]) -> None:
    pool, _ = started
    held, _ = pool.acquire()
    got: list[Environment] = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire()[0]))
    waiter.start()
    waiter.join(timeout=0.3)
    assert waiter.is_alive() and not got  # blocked: one environment at most
    pool.release(held)
    waiter.join(timeout=30)
    assert got == [held]


def test_a_dead_environment_is_replaced(started: tuple[Pool, list[Environment]]) -> None:
    pool, made = started
    first, _ = pool.acquire()
    first.kill()
    pool.release(first)  # not kept: it is dead
    second, cold = pool.acquire()
    assert cold and second is not first and len(made) == 2
    pool.discard(second)
    assert not second.alive


def test_close_refuses_new_work_and_hands_back_the_idle(
    started: tuple[Pool, list[Environment]],
) -> None:
    pool, _ = started
    environment, _ = pool.acquire()
    pool.release(environment)
    assert pool.close() == [environment]
    with pytest.raises(LocalError, match="shutting down"):
        pool.acquire()
