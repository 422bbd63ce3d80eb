"""One S3 object written as a stream, visible only once complete.

Data is buffered up to a part size; a multipart upload starts only when the first part
is full (small outputs become one plain PUT). Nothing is visible until `complete()`,
and `abort()` discards every uploaded part, so a failed job never leaves a partial
object behind. With `gzip`, the stream is compressed on the way (deterministic header).

Parts are sent by a background thread while the caller goes on producing the next one;
at most one part is in flight, so memory stays at two parts. A failed part upload is
raised by the next `write` or by `complete`.
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

MIN_PART_BYTES = 5 * 1024 * 1024  # S3's minimum for every part but the last
_GZIP = zlib.MAX_WBITS | 16

log = logging.getLogger(__name__)


class S3Upload:
    def __init__(
        self,
        client: Any,
        bucket: str,
        key: str,
        *,
        part_bytes: int,
        content_type: str,
        gzip: bool = False,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES} (S3's minimum)")
        self.client = client
        self.bucket = bucket
        self.key = key
        self.part_bytes = part_bytes
        self.content_type = content_type
        self._deflate = zlib.compressobj(6, zlib.DEFLATED, _GZIP) if gzip else None
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._sender: ThreadPoolExecutor | None = None
        self._in_flight: Future[None] | None = None
        self.bytes_in = 0  # before compression
        self.bytes_out = 0  # stored object size
        self.etag: str | None = None

    def write(self, data: bytes) -> None:
        if not data:
            return
        self.bytes_in += len(data)
        self._buffer += self._deflate.compress(data) if self._deflate else data
        while len(self._buffer) >= self.part_bytes:
            with memoryview(self._buffer) as view:
                part = bytes(view[: self.part_bytes])  # one copy, not two
            del self._buffer[: self.part_bytes]
            self._wait_in_flight()
            if self._sender is None:
                self._sender = ThreadPoolExecutor(1, thread_name_prefix="s3-part")
            self._in_flight = self._sender.submit(self._upload_part, part)

    def _wait_in_flight(self) -> None:
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            in_flight.result()

    def _stop_sender(self) -> None:
        """Wait for the part in flight (its error, if any, is the caller's to raise)."""
        if self._sender is not None:
            self._sender.shutdown(wait=True)
            self._sender = None

    def _upload_part(self, body: bytes | bytearray) -> None:
        if self._upload_id is None:
            started = self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        part = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=body,
        )
        self._parts.append({"PartNumber": number, "ETag": part["ETag"]})
        self.bytes_out += len(body)

    def complete(self) -> str:
        """Make the object visible (atomically) and return its ETag."""
        if self._deflate is not None:
            self._buffer += self._deflate.flush()
            self._deflate = None
        self._stop_sender()
        self._wait_in_flight()
        if self._upload_id is None:
            response = self.client.put_object(  # the buffer itself: no copy made here
                Bucket=self.bucket, Key=self.key, Body=self._buffer, ContentType=self.content_type
            )
            self.bytes_out = len(self._buffer)
        else:
            if self._buffer:
                self._upload_part(self._buffer)
            response = self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
            self._upload_id = None
        self._buffer = bytearray()
        self.etag = str(response["ETag"]).strip('"')
        return self.etag

    def abort(self) -> None:
        """Discard everything written so far; safe to call at any point, and twice."""
        self._buffer = bytearray()
        self._stop_sender()
        with contextlib.suppress(Exception):  # the job is failing already
            self._wait_in_flight()
        upload_id, self._upload_id = self._upload_id, None
        if upload_id is None:
            return
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
        except Exception:  # the bucket's lifecycle rule reaps what we could not abort
            log.exception("could not abort multipart upload of s3://%s/%s", self.bucket, self.key)
