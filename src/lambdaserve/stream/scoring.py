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
from lambdaserve.errors import LambdaserveError
from lambdaserve.inference import InferenceResponse
from lambdaserve.stream import results
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
        name = selection.manifest.inputs[0].name
        try:
            return _predict(plane, ctx, name, group.members)
        except LambdaserveError as exc:
            if exc.status >= 500 or len(group.members) == 1:
                raise
            # The block was refused: find the member(s) responsible, one call each.
            return [s for member in group.members for s in _alone(plane, ctx, name, member)]
    except LambdaserveError as exc:
        ctx.status, ctx.error = exc.status, exc
        if exc.status >= 500:
            return _retry(group, exc)
        return [
            Scored(m, results.failure(m.message_id, m.caller_id, group.model, exc, group.version))
            for m in group.members
        ]
    except Exception as exc:
        ctx.status, ctx.error = 500, exc
        return _retry(group, exc)
    finally:
        plane.finish(ctx)


def _predict(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member]
) -> list[Scored]:
    block = members[0].rows if len(members) == 1 else np.concatenate([m.rows for m in members])
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


def _alone(plane: DataPlane, ctx: RequestContext, name: str, member: Member) -> list[Scored]:
    try:
        return _predict(plane, ctx, name, [member])
    except LambdaserveError as exc:
        if exc.status >= 500:
            raise
        doc = results.failure(member.message_id, member.caller_id, ctx.model, exc, ctx.version)
        return [Scored(member, doc)]


def _retry(group: Group, exc: BaseException) -> list[Scored]:
    log.error(
        "scoring %d message(s) for %s version %s failed; they will be retried",
        len(group.members),
        group.model,
        group.version,
        exc_info=exc,
    )
    return [Scored(m, None) for m in group.members]
