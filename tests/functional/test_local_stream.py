"""`lambdaserve serve` + local SQS: messages sent to the input queue come back as results on
the output queue, through the real StreamPredictFunction in its own process."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from test_local_serve import start, stop

from lambdaserve.local import template

pytestmark = pytest.mark.slow  # runs `serve` in a subprocess

ROOT = Path(__file__).resolve().parents[2]


def test_messages_sent_to_the_input_queue_come_back_as_results(tmp_path: Path) -> None:
    tpl = template.load(ROOT / "template.yaml")
    (trigger,) = tpl.queue_triggers
    input_name = tpl.queues[trigger.queue].name
    output_name = tpl.queues["StreamOutputQueue"].name
    served = start(ROOT, tmp_path / "serve.log")
    try:
        sqs: Any = served.sqs_client()
        input_url = sqs.get_queue_url(QueueName=input_name)["QueueUrl"]
        output_url = sqs.get_queue_url(QueueName=output_name)["QueueUrl"]
        assert any(input_url in line and trigger.function in line for line in served.banner)
        sends = [
            {"model": "iris", "id": "a", "features": [5.1, 3.5, 1.4, 0.2]},
            {"model": "breast_cancer", "version": "stable", "id": "b", "instances": [[1.0] * 30]},
            {"model": "iris", "id": "c", "features": [1.0]},
        ]
        sent_ids = [
            sqs.send_message(QueueUrl=input_url, MessageBody=json.dumps(body))["MessageId"]
            for body in sends
        ]
        got: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 180
        while len(got) < len(sends) and time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=output_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", []):
                doc = json.loads(message["Body"])
                got[doc["message_id"]] = doc
        assert set(got) == set(sent_ids), served.log.read_text()[-3000:]
        assert [got[i]["id"] for i in sent_ids] == ["a", "b", "c"]
        assert got[sent_ids[0]]["label"] == "setosa"
        assert got[sent_ids[1]]["version"] == "1"
        assert got[sent_ids[2]]["status"] == 400
        # Answered messages are deleted from the input queue, as the event source mapping does
        # (just after the invocation returns, so give it a moment).
        wanted = {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        counts: dict[str, str] = {}
        deadline = time.monotonic() + 30
        while counts != wanted and time.monotonic() < deadline:
            attributes = sqs.get_queue_attributes(QueueUrl=input_url, AttributeNames=["All"])
            counts = {k: attributes["Attributes"][k] for k in wanted}
            time.sleep(0.2)
        assert counts == wanted
    finally:
        assert stop(served) == 0
    examples = [line for line in served.banner if "sqs send-message" in line]
    assert examples and input_name in examples[0]
