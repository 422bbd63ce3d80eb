"""Local SQS (and Kinesis, EventBridge): moto's server on loopback with the template's
queues, streams and buses, and pollers that feed functions as Lambda's event source
mappings do.

A queue poller receives up to the mapping's batch size (waiting up to its batching
window), invokes the function synchronously with the SQS event Lambda would build, then
deletes the messages the function did not report in `batchItemFailures` (all of them
when it does not report failures, none when it fails). Undeleted messages come back after
the queue's visibility timeout, and moto moves them to the dead-letter queue after the
redrive policy's receive count, as SQS does. A stream poller reads every shard from the
latest position and checkpoints after the lowest reported failure, retrying from there.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from lambdaserve.local.errors import LocalError
from lambdaserve.local.runtime import LocalLambda
from lambdaserve.local.samples import Sample
from lambdaserve.local.server import moto_client, start_moto
from lambdaserve.local.services import Log, ServeOptions, service
from lambdaserve.local.template import ACCOUNT_ID, Template
from lambdaserve.local.template.sources.sqs import QueueTrigger, StreamTrigger

Invoke = Callable[[str, bytes], tuple[bool, bytes]]  # (function, event) -> (ok, payload)
SQS_RECEIVE_MAX = 10
STREAM_RETRIES = 3
IDLE_SECONDS = 0.2


def sqs_record(message: Mapping[str, Any], arn: str, region: str) -> dict[str, Any]:
    """One SQS message as Lambda's SQS event record."""
    attributes = message.get("Attributes") or {}
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(attributes),
        "messageAttributes": {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value.get("DataType", "String"),
            }
            for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": region,
    }


def kinesis_record(record: Mapping[str, Any], shard: str, arn: str, region: str) -> dict[str, Any]:
    """One Kinesis record as Lambda's Kinesis event record (data base64-encoded)."""
    sequence = str(record["SequenceNumber"])
    arrived = record.get("ApproximateArrivalTimestamp")
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.get("PartitionKey", ""),
            "sequenceNumber": sequence,
            "data": base64.b64encode(bytes(record["Data"])).decode(),
            "approximateArrivalTimestamp": arrived.timestamp() if arrived else time.time(),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/lambdaserve-local",
        "awsRegion": region,
        "eventSourceARN": arn,
    }


def failures(ok: bool, payload: bytes, report: bool) -> set[str] | None:
    """Ids the function reported as failed; None: the whole batch failed."""
    if not ok:
        return None
    if not report:
        return set()
    try:
        answer = json.loads(payload or b"null")
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return set()
    items = answer.get("batchItemFailures") or []
    ids = {str(i.get("itemIdentifier")) for i in items if isinstance(i, dict)}
    if any(not i for i in ids):
        return None  # Lambda treats a malformed report as a failure of the whole batch
    return ids


class LocalQueues:
    """moto's server with the template's queues (redrive included), streams and buses."""

    def __init__(self, template: Template, host: str = "127.0.0.1", port: int = 0) -> None:
        self.template = template
        self._server, self.endpoint = start_moto(host, port, "local SQS", "--sqs-port")
        self.sqs = self.client("sqs")
        self.urls: dict[str, str] = {}
        # Dead-letter queues first: a redrive policy names an existing queue.
        ordered = sorted(template.queues.values(), key=lambda q: q.dead_letter is not None)
        for queue in ordered:
            attributes = {"VisibilityTimeout": str(queue.visibility_timeout)}
            if queue.dead_letter and queue.dead_letter in template.queues:
                target = template.queues[queue.dead_letter].name
                attributes["RedrivePolicy"] = json.dumps(
                    {
                        "deadLetterTargetArn": self.arn(target),
                        "maxReceiveCount": queue.max_receive_count,
                    }
                )
            created = self.sqs.create_queue(QueueName=queue.name, Attributes=attributes)
            self.urls[queue.logical_id] = created["QueueUrl"]
        self.kinesis = self.client("kinesis") if template.streams else None
        for name in template.streams.values():
            assert self.kinesis is not None
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
        if template.event_buses:
            events = self.client("events")
            for name in template.event_buses.values():
                events.create_event_bus(Name=name)

    def arn(self, queue_name: str) -> str:
        return f"arn:aws:sqs:{self.template.region}:{ACCOUNT_ID}:{queue_name}"

    def client(self, name: str) -> Any:
        return moto_client(name, self.endpoint, self.template.region)

    def stop(self) -> None:
        self._server.stop()


class QueuePoller:
    """Lambda's SQS event source mapping for one trigger, on a thread."""

    def __init__(
        self, queues: LocalQueues, trigger: QueueTrigger, invoke: Invoke, log: Log | None = None
    ) -> None:
        self.queues = queues
        self.trigger = trigger
        self.invoke = invoke
        self.log = log
        self.url = queues.urls[trigger.queue]
        self.arn = queues.arn(queues.template.queues[trigger.queue].name)
        self.batches = 0  # invocations made (tests wait on it)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sqs-{trigger.queue}", daemon=True)
        self._thread.start()

    def _receive(self) -> list[dict[str, Any]]:
        """Up to the batch size, gathering for at most the batching window."""
        wanted = max(1, self.trigger.batch_size)
        deadline = time.monotonic() + self.trigger.batching_window
        got: list[dict[str, Any]] = []
        while len(got) < wanted and not self._stop.is_set():
            answer = self.queues.sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=min(SQS_RECEIVE_MAX, wanted - len(got)),
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            )
            batch = answer.get("Messages") or []
            known = {m["MessageId"] for m in got}
            fresh = [m for m in batch if m["MessageId"] not in known]
            got.extend(fresh)
            if len(fresh) < len(batch):
                break  # visible again already (a short visibility timeout): batch is complete
            if not batch:
                if got and time.monotonic() >= deadline:
                    break
                if not got:
                    deadline = time.monotonic() + self.trigger.batching_window
                self._stop.wait(IDLE_SECONDS)
        return got

    def poll_once(self) -> int:
        """Receive one batch and deliver it; the number of messages delivered."""
        messages = self._receive()
        if not messages:
            return 0
        region = self.queues.template.region
        event = {"Records": [sqs_record(m, self.arn, region) for m in messages]}
        ok, payload = self.invoke(self.trigger.function, json.dumps(event).encode())
        failed = failures(ok, payload, self.trigger.report_failures)
        self.batches += 1
        if failed is None:
            if self.log:
                self.log(self.trigger.function, f"SQS batch of {len(messages)} failed; retried")
            return len(messages)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), SQS_RECEIVE_MAX):
            entries = [
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                for i, m in enumerate(done[start : start + SQS_RECEIVE_MAX])
            ]
            self.queues.sqs.delete_message_batch(QueueUrl=self.url, Entries=entries)
        if failed and self.log:
            self.log(self.trigger.function, f"SQS: {len(failed)} of {len(messages)} to retry")
        return len(messages)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # the server may be stopping; keep polling until told
                if not self._stop.is_set() and self.log:
                    self.log("sqs", f"poll of {self.trigger.queue} failed: {exc}")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class StreamPoller:
    """Lambda's Kinesis event source mapping for one trigger: every shard from its starting
    position (LATEST, or TRIM_HORIZON)."""

    def __init__(
        self, queues: LocalQueues, trigger: StreamTrigger, invoke: Invoke, log: Log | None = None
    ) -> None:
        assert queues.kinesis is not None
        self.kinesis = queues.kinesis
        self.trigger = trigger
        self.invoke = invoke
        self.log = log
        self.region = queues.template.region
        self.name = queues.template.streams[trigger.stream]
        self.arn = f"arn:aws:kinesis:{self.region}:{ACCOUNT_ID}:stream/{self.name}"
        self.batches = 0
        self._iterators: dict[str, str] = {}
        for shard in self.kinesis.list_shards(StreamName=self.name)["Shards"]:
            self._iterators[shard["ShardId"]] = self.kinesis.get_shard_iterator(
                StreamName=self.name,
                ShardId=shard["ShardId"],
                ShardIteratorType=trigger.starting_position,
            )["ShardIterator"]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"kinesis-{self.name}", daemon=True)
        self._thread.start()

    def _deliver(self, shard: str, records: list[dict[str, Any]]) -> str | None:
        """Invoke with the records; the sequence number to resume at (None: all done)."""
        for _ in range(STREAM_RETRIES + 1):
            event = {"Records": [kinesis_record(r, shard, self.arn, self.region) for r in records]}
            ok, payload = self.invoke(self.trigger.function, json.dumps(event).encode())
            self.batches += 1
            failed = failures(ok, payload, self.trigger.report_failures)
            if failed == set():
                return None
            # Lambda checkpoints before the lowest failed record and retries from it.
            lowest = (
                0
                if failed is None
                else min(i for i, r in enumerate(records) if str(r["SequenceNumber"]) in failed)
            )
            records = records[lowest:]
        if self.log:
            self.log(self.trigger.function, f"Kinesis: {len(records)} record(s) skipped")
        return None

    def poll_once(self) -> int:
        count = 0
        for shard, iterator in list(self._iterators.items()):
            answer = self.kinesis.get_records(ShardIterator=iterator, Limit=self.trigger.batch_size)
            self._iterators[shard] = answer["NextShardIterator"]
            records = answer.get("Records") or []
            if records:
                self._deliver(shard, records)
                count += len(records)
        return count

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(IDLE_SECONDS)
            except Exception as exc:
                if not self._stop.is_set() and self.log:
                    self.log("kinesis", f"poll of {self.name} failed: {exc}")
                self._stop.wait(1.0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class QueueService:
    """Local SQS (+ Kinesis, EventBridge) feeding the queue- and stream-triggered functions."""

    def __init__(self, template: Template, options: ServeOptions) -> None:
        self.template = template
        self.queues = LocalQueues(template, options.host, options.sqs_port)
        self.pollers: list[QueuePoller | StreamPoller] = []

    @property
    def endpoints(self) -> Mapping[str, str]:
        endpoint = self.queues.endpoint
        return {
            "AWS_ENDPOINT_URL_SQS": endpoint,
            "AWS_ENDPOINT_URL_KINESIS": endpoint,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint,
        }

    def describe(self) -> list[str]:
        lines = [f"  SQS         {self.queues.endpoint}"]
        feeds = {t.queue: t.function for t in self.template.queue_triggers}
        for logical_id, url in self.queues.urls.items():
            target = f" -> {feeds[logical_id]}" if logical_id in feeds else ""
            lines.append(f"              {url}{target}")
        for trigger in self.template.stream_triggers:
            name = self.template.streams[trigger.stream]
            lines.append(f"  Kinesis     {name} -> {trigger.function}")
        return lines

    def examples(self, samples: list[Sample]) -> list[str]:
        aws = f"aws --endpoint-url {self.queues.endpoint}"
        commands: list[str] = []
        for trigger in self.template.queue_triggers:
            body = _sample_body(samples, "aws:sqs")
            if body is not None:
                url = self.queues.urls[trigger.queue]
                commands.append(f"{aws} sqs send-message --queue-url {url} --message-body '{body}'")
        outputs = [
            url
            for logical_id, url in self.queues.urls.items()
            if logical_id not in {t.queue for t in self.template.queue_triggers}
            and "output" in logical_id.lower()
        ]
        commands.extend(
            f"{aws} sqs receive-message --queue-url {url} --message-attribute-names All"
            for url in outputs
        )
        for stream_trigger in self.template.stream_triggers:
            body = _sample_body(samples, "aws:sqs")
            if body is not None:
                name = self.template.streams[stream_trigger.stream]
                commands.append(
                    f"{aws} kinesis put-record --stream-name {name} --partition-key p1 "
                    f"--cli-binary-format raw-in-base64-out --data '{body}'"
                )
        return commands

    def start(self, runtime: LocalLambda, log: Log) -> None:
        def invoke(function: str, payload: bytes) -> tuple[bool, bytes]:
            result = runtime.invoke(function, payload)
            if not result.ok:
                log(function, f"batch failed: {result.payload.decode()[:500]}")
            return result.ok, result.payload

        for trigger in self.template.queue_triggers:
            self.pollers.append(QueuePoller(self.queues, trigger, invoke, log))
        for stream_trigger in self.template.stream_triggers:
            self.pollers.append(StreamPoller(self.queues, stream_trigger, invoke, log))

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        self.queues.stop()


def _sample_body(samples: list[Sample], source: str) -> str | None:
    """The first message body of the project's sample SQS events a shell can quote as is."""
    bodies = [
        str(record["body"])
        for sample in samples
        for record in sample.event.get("Records") or []
        if isinstance(record, dict) and record.get("eventSource") == source and "body" in record
    ]
    usable = [b for b in bodies if "'" not in b and b.startswith("{")]
    return usable[0] if usable else None


@service("SQS")
def open_queues(template: Template, options: ServeOptions) -> QueueService | None:
    if not (template.queue_triggers or template.stream_triggers) or not options.sqs:
        return None
    if any(t.queue not in template.queues for t in template.queue_triggers):
        raise LocalError("an SQS trigger names a queue that is not in the template")
    return QueueService(template, options)
