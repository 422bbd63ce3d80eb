"""The project's sample events (events/**/*.json, as `sam local invoke` uses them), and the
example commands the serve banner builds from them, so no example is written by hand."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdaserve.local.routes import RouteMatch, RouteTable
from lambdaserve.local.template import HttpRoute


@dataclass(frozen=True)
class Sample:
    """One sample event of the project (events/**/*.json), as `sam local invoke` uses them."""

    path: Path
    event: dict[str, Any]


def samples(project: Path) -> list[Sample]:
    """The project's sample events, in path order (unreadable or non-object files skipped)."""
    found: list[Sample] = []
    for path in sorted((project / "events").rglob("*.json")):
        try:
            event = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(event, dict):
            found.append(Sample(path, event))
    return found


def shown_path(path: Path) -> str:
    """A path as a command run from here should name it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _is_catch_all(match: RouteMatch) -> bool:
    return match.route.path in ("$default", "/{proxy+}")


def curl_examples(
    api: str,
    routes: RouteTable,
    samples: list[Sample],
    auth: Callable[[HttpRoute], str] | None = None,
) -> list[tuple[str, Sample]]:
    """One curl per method and top-level path segment, from the shortest sample event that a
    route more specific than the catch-all takes (a catch-all sample is usually an error case).
    `auth`: the curl options that authorize a request to a route (SigV4 signing, a token)."""
    chosen: dict[tuple[str, str], tuple[int, str, Sample]] = {}
    for sample in samples:
        event = sample.event
        http = (event.get("requestContext") or {}).get("http") or {}
        path, method = event.get("rawPath"), http.get("method")
        if event.get("version") != "2.0" or not isinstance(path, str) or not method:
            continue
        if event.get("isBase64Encoded"):
            continue
        match = routes.match(str(method), path)
        if match is None or _is_catch_all(match):
            continue
        query = event.get("rawQueryString") or ""
        target = shlex.quote(f"{api}{path}{'?' + query if query else ''}")
        command = f"curl -s {target}" if method == "GET" else f"curl -s -X {method} {target}"
        options = auth(match.route) if auth else ""
        if options:
            command = command.replace("curl -s ", f"curl -s {options} ", 1)
        body = event.get("body")
        if body:
            content_type = (event.get("headers") or {}).get("content-type")
            if content_type:
                command += f" -H {shlex.quote('content-type: ' + content_type)}"
            command += f" -d {shlex.quote(str(body))}"
        key = (str(method), path.strip("/").split("/")[0])
        if key not in chosen or len(command) < chosen[key][0]:
            chosen[key] = (len(command), command, sample)
    ordered = sorted(chosen.items(), key=lambda item: (item[0][0] != "GET", item[1][0]))
    return [(command, sample) for _, (_, command, sample) in ordered]
