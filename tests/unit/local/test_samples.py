"""Example commands built from sample events."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

from lambdaserve.local.routes import RouteTable
from lambdaserve.local.samples import Sample, curl_examples, samples
from lambdaserve.local.template import HttpRoute

ROUTES = RouteTable(
    [
        HttpRoute("GET", "/health", "Index"),
        HttpRoute("POST", "/items/{id}", "Items"),
        HttpRoute("ANY", "/{proxy+}", "Index"),
    ]
)


def http_sample(method: str, path: str, body: str | None = None, **extra: object) -> Sample:
    event: dict[str, object] = {
        "version": "2.0",
        "rawPath": path,
        "requestContext": {"http": {"method": method}},
        "headers": {"content-type": "application/json"},
        **extra,
    }
    if body is not None:
        event["body"] = body
    return Sample(Path(f"/events/{method}{path.replace('/', '_')}.json"), event)


def test_one_example_per_method_and_top_segment_shortest_first() -> None:
    found = [
        http_sample("POST", "/items/abc", '{"name": "it\'s long"}'),
        http_sample("POST", "/items/a", '{"n": 1}'),
        http_sample("GET", "/health"),
        http_sample("POST", "/nowhere/x", "{}"),  # only the catch-all takes it
        http_sample("POST", "/items/b", "AAAA", isBase64Encoded=True),  # binary: skipped
        Sample(Path("/events/s3.json"), {"Records": []}),
    ]
    commands = [c for c, _ in curl_examples("http://h", ROUTES, found)]
    assert commands == [
        "curl -s http://h/health",
        "curl -s -X POST http://h/items/a -H 'content-type: application/json' -d '{\"n\": 1}'",
    ]


def test_bodies_are_shell_quoted() -> None:
    found = [http_sample("POST", "/items/q", '{"name": "it\'s"}')]
    ((command, _),) = curl_examples("http://h", ROUTES, found)
    assert json.loads(shlex.split(command)[-1]) == {"name": "it's"}


def test_samples_reads_every_json_object_under_events(tmp_path: Path) -> None:
    (tmp_path / "events" / "api").mkdir(parents=True)
    (tmp_path / "events" / "api" / "a.json").write_text('{"version": "2.0"}')
    (tmp_path / "events" / "list.json").write_text("[1]")
    (tmp_path / "events" / "broken.json").write_text("{")
    assert [s.path.name for s in samples(tmp_path)] == ["a.json"]
    assert samples(tmp_path / "nothing") == []
