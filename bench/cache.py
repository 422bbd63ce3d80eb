"""Prediction cache: warm p50 of a hit vs a miss, and what the cache costs a miss.

One process, four subjects in alternating blocks on breast_cancer version 2 (the random
forest), seed-style single-row requests through the full Lambda handler:
- hit: one event sent again and again to the function as deployed (cache on);
- miss (cache on): a row never sent before on every call, same function; as deployed, an
  input is stored on its second miss (CacheAdmitAfter=2), so this miss looks up and
  remembers the input, and stores nothing;
- second miss (cache on): rows each sent once before (untimed) to a third copy of the
  function: the miss that stores its answer in the LRU;
- miss (cache off): the same fresh rows to a second copy of the function with
  LAMBDASERVE_CACHE_ENTRIES=0, so the difference of the misses is the cache's own cost
  (key, lookup, admission, store).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from bench import fixtures
from bench.budget import Budget
from bench.events import http_event
from bench.report import Section, Table, Target
from bench.stats import Summary, interleaved

PATH = f"/models/{fixtures.MODEL}/versions/{fixtures.VERSION}/predict"
LABELS = {
    "hit": "hit (cache on, same row every call)",
    "miss_on": "miss (cache on, a new row every call: looked up, not stored)",
    "miss_second": "second miss (cache on, each row sent once before: stored)",
    "miss_off": "miss (cache off, the same new rows)",
}


def run(budget: Budget) -> Section:
    on = fixtures.model_handler("bench_cache_on")
    second = fixtures.model_handler("bench_cache_second")
    off = fixtures.model_handler("bench_cache_off", LAMBDASERVE_CACHE_ENTRIES="0")
    warmup = max(10, budget.warm_calls // 20)
    calls = warmup + budget.warm_calls
    rows = fixtures.unique_rows(2 * calls + 2, seed=7)  # fresh, seen (+1 to check), the hit
    events = [http_event("POST", PATH, {"features": r.tolist()}) for r in rows]
    fresh, seen = events[:calls], events[calls : 2 * calls + 1]

    # Correctness: a hit answers what the model answered; each cache state is what we say.
    answers = [fixtures.check_ok(on.handler(events[-1], None)) for _ in range(3)]
    answers.append(fixtures.check_ok(off.handler(events[-1], None)))
    states = [r["headers"].get("x-cache") for r in answers]
    if states != ["miss", "miss", "hit", "bypass"]:
        raise RuntimeError(f"cache states {states}, expected miss, miss (stored), hit, bypass")
    bodies = {orjson.dumps(orjson.loads(r["body"])) for r in answers}
    if len(bodies) != 1:
        raise RuntimeError(f"a hit answered differently from the model: {bodies}")
    for event in seen:  # each once, untimed: the timed call is its second miss
        fixtures.check_ok(second.handler(event, None))
    stored = fixtures.check_ok(second.handler(seen[0], None))["headers"].get("x-cache")
    if stored != "miss" or second.handler(seen[0], None)["headers"].get("x-cache") != "hit":
        raise RuntimeError("a second miss was not stored")

    hit_event = events[-1]
    fresh_on, fresh_off, again = iter(fresh), iter(fresh), iter(seen[1:])
    subjects: dict[str, Callable[[], Any]] = {
        "hit": lambda: on.handler(hit_event, None),
        "miss_on": lambda: on.handler(next(fresh_on), None),
        "miss_second": lambda: second.handler(next(again), None),
        "miss_off": lambda: off.handler(next(fresh_off), None),
    }
    interleaved(subjects, warmup)
    results = interleaved(subjects, budget.warm_calls)
    return section(results)


def section(results: dict[str, Summary]) -> Section:
    hit, miss, plain = results["hit"], results["miss_on"], results["miss_off"]
    stored = results["miss_second"]
    overhead = (miss.p50_us - plain.p50_us) / plain.p50_us
    targets = [
        Target(
            "cache_hit_vs_miss",
            "Cache hit warm p50 vs miss (random forest, single row)",
            hit.p50_us,
            "miss",
            miss.p50_us,
            "µs",
            hit.p50_us / miss.p50_us,
            "<",
            1.0,
            "hit/miss",
        ),
        Target(
            "cache_miss_overhead",
            "Cache cost on a miss (as deployed), vs the same miss with the cache off",
            miss.p50_us,
            "cache off",
            plain.p50_us,
            "µs",
            overhead,
            "<",
            0.05,
            "extra/miss",
        ),
    ]
    rows = [[LABELS[n], s.n, s.p50_us, s.p90_us, s.p99_us, s.mean_us] for n, s in results.items()]
    return Section(
        "cache",
        "1b. Prediction cache (hit vs miss, and what the cache costs a miss)",
        targets=targets,
        tables=[
            Table(
                "Per call, in-process, API Gateway v2 event to response dict (µs)",
                ["subject", "calls", "p50", "p90", "p99", "mean"],
                rows,
            )
        ],
        notes=[
            "breast_cancer version 2 (random forest, 100 trees), seed-style route; subjects "
            "alternate in blocks of 50 calls in one process.",
            f"A hit saves {miss.p50_us - hit.p50_us:.0f} µs at p50; the cache adds "
            f"{miss.p50_us - plain.p50_us:.1f} µs to a first miss ({overhead:.1%}) and "
            f"{stored.p50_us - plain.p50_us:.1f} µs to a second one, which stores its answer "
            f"({(stored.p50_us - plain.p50_us) / plain.p50_us:.1%}).",
        ],
        data={n: s.to_json() for n, s in results.items()},
    )
