"""One group, one model call: the members' rows stacked, predicted once, split back.

The model checks the stacked block (dtype ranges, finiteness) as it checks any request.
If it refuses the block, the members are scored one by one so only the bad message gets
an error result. Anything else the model raises is our fault, not the message's: the
group's messages are then retried (never answered with an error they did not cause).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from lambdaserve.codecs.simple import prediction_rows
from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.errors import InvalidInput, LambdaserveError
from lambdaserve.inference import InferenceResponse
from lambdaserve.stream import request, results
from lambdaserve.stream.grouping import Group, Member

log = logging.getLogger("lambdaserve.stream")


@dataclass(frozen=True, slots=True)
class Scored:
    """A member's result document, or None when the model failed for reasons of ours."""

    member: Member
    doc: dict[str, Any] | None


def score(plane: DataPlane, group: Group) -> list[Scored]:
    """Every member of the group with its result, in member order."""
    ctx = RequestContext(group.model, group.version, route="stream", started=time.perf_counter())
    try:
        selection = plane.select(ctx)
        manifest = selection.manifest
        refused: list[Scored] = []
        try:  # the whole group's rows in one conversion and one check
            rows = [row for m in group.members for row in m.rows]
            block: np.ndarray | None = request.to_array(rows, manifest, "rows")
            good = group.members
        except InvalidInput:  # someone sent bad rows: find who, one message at a time
            good, arrays = [], []
            for m in group.members:
                try:
                    arrays.append(request.to_array(m.rows, manifest, _what(m)))
                    good.append(m)
                except LambdaserveError as exc:
                    refused.append(Scored(m, _failure(m, ctx, exc)))
            block = np.concatenate(arrays) if len(arrays) > 1 else arrays[0] if arrays else None
        name = manifest.inputs[0].name
        scored = _scored(plane, ctx, name, good, block) if block is not None else []
        if refused:
            order = {m.index: i for i, m in enumerate(group.members)}
            scored = sorted(scored + refused, key=lambda s: order[s.member.index])
        return scored
    except LambdaserveError as exc:
        ctx.status, ctx.error = exc.status, exc
        if exc.status >= 500:
            return _retry(group, exc)
        return [Scored(m, _failure(m, ctx, exc)) for m in group.members]
    except Exception as exc:
        ctx.status, ctx.error = 500, exc
        return _retry(group, exc)
    finally:
        plane.finish(ctx)


def _what(member: Member) -> str:
    return "features" if member.single else "instances"


def _failure(member: Member, ctx: RequestContext, exc: LambdaserveError) -> dict[str, Any]:
    return results.failure(member.message_id, member.caller_id, ctx.model, exc, ctx.version)


def _scored(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member], block: Any
) -> list[Scored]:
    """The block in one model call; if the model refuses it, each member alone."""
    try:
        return _predict(plane, ctx, name, members, block)
    except LambdaserveError as exc:
        if exc.status >= 500:
            raise
    # A value the model refuses (NaN, beyond float32) is in the block: one call each.
    found: list[Scored] = []
    start = 0
    for m in members:
        alone = block[start : start + len(m.rows)]
        start += len(m.rows)
        try:
            found.extend(_predict(plane, ctx, name, [m], alone))
        except LambdaserveError as exc:
            if exc.status >= 500:
                raise
            found.append(Scored(m, _failure(m, ctx, exc)))
    return found


def _predict(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member], block: Any
) -> list[Scored]:
    outputs = plane.predict_block(ctx, {name: block})
    selection = ctx.selection
    assert selection is not None  # select ran
    response = InferenceResponse(ctx.model, selection.version, outputs)
    rows = prediction_rows(response, selection.manifest)
    scored, start = [], 0
    for m in members:
        end = start + len(m.rows)
        doc = results.prediction(
            m.message_id, m.caller_id, ctx.model, selection.version, rows[start:end], m.single
        )
        scored.append(Scored(m, doc))
        start = end
    return scored


def _retry(group: Group, exc: BaseException) -> list[Scored]:
    log.error(
        "scoring %d message(s) for %s version %s failed; they will be retried",
        len(group.members),
        group.model,
        group.version,
        exc_info=exc,
    )
    return [Scored(m, None) for m in group.members]
