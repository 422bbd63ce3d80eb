"""RequestContext: the inference id, stage headers and the latency split."""

from __future__ import annotations

import numpy as np

from lambdaserve.dataplane import RequestContext
from lambdaserve.inference import InferenceRequest

ONE_ROW = {"input": np.ones((1, 4), dtype=np.float32)}


def test_what_the_caller_named_and_defaults() -> None:
    ctx = RequestContext("iris", "1", None, route="infer", attributes={"x-user-id": "u1"})
    assert (ctx.model, ctx.version, ctx.label, ctx.route) == ("iris", "1", None, "infer")
    assert ctx.attributes == {"x-user-id": "u1"}
    assert ctx.selection is None and ctx.selected_version is None
    assert (ctx.status, ctx.error, ctx.response_headers) == (200, None, None)
    assert (ctx.body, ctx.reply_body, ctx.reply_media_type) == (None, None, None)
    assert RequestContext("iris").attributes == {}


def test_inference_id_is_the_callers_id_when_it_sent_one() -> None:
    ctx = RequestContext("iris")
    ctx.request = InferenceRequest(ONE_ROW, id="req-42")
    assert ctx.inference_id == "req-42"


def test_inference_id_is_made_once_and_unique_otherwise() -> None:
    first, second = RequestContext("iris"), RequestContext("iris")
    first.request = InferenceRequest(ONE_ROW)
    made = first.inference_id
    assert len(made) == 32 and int(made, 16) >= 0
    assert first.inference_id == made
    assert second.inference_id not in {made, ""}  # before any request is decoded, too


def test_headers_added_by_stages_accumulate_and_the_last_value_wins() -> None:
    ctx = RequestContext("iris")
    ctx.add_header("x-cache", "miss")
    ctx.add_header("x-shadow", "agree")
    ctx.add_header("x-cache", "hit")
    assert ctx.response_headers == {"x-cache": "hit", "x-shadow": "agree"}


def test_latency_split_from_the_marks() -> None:
    ctx = RequestContext("iris", started=10.0)
    assert (ctx.decode_seconds, ctx.inference_seconds, ctx.encode_seconds) == (0.0, 0.0, 0.0)
    ctx.decoded, ctx.inferred, ctx.encoded = 10.25, 11.0, 11.5
    assert (ctx.decode_seconds, ctx.inference_seconds, ctx.encode_seconds) == (0.25, 0.75, 0.5)


def test_notes_are_left_for_later_stages() -> None:
    ctx = RequestContext("iris")
    assert ctx.notes is None
    ctx.note("cache", "miss")
    ctx.note("shadow", {"version": "2", "agree": True})
    assert ctx.notes == {"cache": "miss", "shadow": {"version": "2", "agree": True}}
    assert RequestContext("iris").notes is None  # never shared between requests
