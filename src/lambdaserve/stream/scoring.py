"""One group, one model call: the members' rows stacked, predicted once, split back.

The model checks the stacked block (dtype ranges, finiteness) as it checks any request.
If it refuses the block, the members are scored one by one so only the bad message gets
an error result. Anything else the model raises is our fault, not the message's: the
group's messages are then retried (never answered with an error they did not cause).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from lambdaserve.dataplane import DataPlane, RequestContext
from lambdaserve.errors import InvalidInput, LambdaserveError
from lambdaserve.stream import request, results
from lambdaserve.stream.grouping import Group, Member

log = logging.getLogger("lambdaserve.stream")


Doc = dict[str, Any]


def score(plane: DataPlane, group: Group) -> Sequence[Doc | None]:
    """Each member's result document, in member order; None for a member whose model failed
    for reasons of ours (it is retried, not answered)."""
    members = group.members
    ctx = RequestContext(group.model, group.version, route="stream", started=time.perf_counter())
    try:
        manifest = plane.select(ctx).manifest
        name = manifest.inputs[0].name
        try:  # the whole group's rows in one conversion and one check
            block = request.to_array([row for m in members for row in m.rows], manifest, "rows")
        except InvalidInput:  # someone sent bad rows: find who, one message at a time
            return _score_apart(plane, ctx, name, members)
        return _scored(plane, ctx, name, members, block)
    except LambdaserveError as exc:
        ctx.status, ctx.error = exc.status, exc
        if exc.status >= 500:
            return _retry(group, exc)
        return [_failure(m, ctx, exc) for m in members]
    except Exception as exc:
        ctx.status, ctx.error = 500, exc
        return _retry(group, exc)
    finally:
        plane.finish(ctx)


def _what(member: Member) -> str:
    return "features" if member.single else "instances"


def _failure(member: Member, ctx: RequestContext, exc: LambdaserveError) -> Doc:
    return results.failure(member.message_id, member.caller_id, ctx.model, exc, ctx.version)


def _score_apart(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member]
) -> Sequence[Doc | None]:
    """Each message's rows checked alone: the bad ones answered, the good ones in one call."""
    assert ctx.selection is not None  # select ran
    manifest = ctx.selection.manifest
    docs: list[Doc | None] = [None] * len(members)
    good, positions, arrays = [], [], []
    for i, m in enumerate(members):
        try:
            arrays.append(request.to_array(m.rows, manifest, _what(m)))
        except LambdaserveError as exc:
            docs[i] = _failure(m, ctx, exc)
            continue
        good.append(m)
        positions.append(i)
    if arrays:
        block = np.concatenate(arrays) if len(arrays) > 1 else arrays[0]
        for i, doc in zip(positions, _scored(plane, ctx, name, good, block), strict=True):
            docs[i] = doc
    return docs


def _scored(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member], block: Any
) -> Sequence[Doc | None]:
    """The block in one model call; if the model refuses it, each member alone."""
    try:
        return _predict(plane, ctx, name, members, block)
    except LambdaserveError as exc:
        if exc.status >= 500:
            raise
    # A value the model refuses (NaN, beyond float32) is in the block: one call each.
    found: list[Doc | None] = []
    start = 0
    for m in members:
        alone = block[start : start + len(m.rows)]
        start += len(m.rows)
        try:
            found.extend(_predict(plane, ctx, name, [m], alone))
        except LambdaserveError as exc:
            if exc.status >= 500:
                raise
            found.append(_failure(m, ctx, exc))
    return found


def _predict(
    plane: DataPlane, ctx: RequestContext, name: str, members: list[Member], block: Any
) -> list[Doc]:
    outputs = plane.predict_block(ctx, {name: block})
    selection = ctx.selection
    assert selection is not None  # select ran
    return results.predictions(members, outputs, selection.manifest, selection.version)


def _retry(group: Group, exc: BaseException) -> list[Doc | None]:
    log.error(
        "scoring %d message(s) for %s version %s failed; they will be retried",
        len(group.members),
        group.model,
        group.version,
        exc_info=exc,
    )
    return [None] * len(group.members)
