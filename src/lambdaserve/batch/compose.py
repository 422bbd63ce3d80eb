"""One object from the shards' part objects, in order, by S3 multipart `UploadPartCopy`.

S3 copies the bytes server-side; the catch is its 5 MiB minimum for every part but the
last. The pieces are walked as one stream, each multipart part being either
- a server-side copy of a range of one piece (at least 5 MiB, at most 5 GiB), taken
  whenever nothing is pending and the current piece has 5 MiB or more left, or
- a buffer of downloaded bytes uploaded as a part: only pieces below 5 MiB go there,
  topped up with the first (5 MiB - buffered) bytes of the next piece so the buffer
  reaches the minimum and the rest of that piece is copied; when that rest would itself
  be below 5 MiB (the next piece is under 10 MiB), the whole next piece is taken instead,
  so a small tail never starts another buffer.
What is downloaded is bounded by the small pieces plus under 10 MiB per run of them (in
practice: shard outputs above 10 MiB are never downloaded). An output below 5 MiB in
total is one plain PUT.
Nothing is visible before `CompleteMultipartUpload`; on any error the upload is aborted.
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from lambdaserve.batch.multipart import MIN_PART_BYTES

MAX_PART_BYTES = 5 * 1024**3  # S3's maximum part size (and a single copy's)
PARALLEL_PARTS = 16  # part requests in flight

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Piece:
    key: str
    size: int


@dataclass(frozen=True)
class Composed:
    key: str
    etag: str
    bytes: int
    copied_bytes: int  # copied server-side
    downloaded_bytes: int  # read back to merge pieces below the minimum part size
    parts: int


class _Parts:
    """The multipart upload being built: copy and upload parts, numbered in order and
    sent by a few threads at once (a copy is one request S3 serves in seconds per GB)."""

    def __init__(self, s3: Any, bucket: str, key: str, content_type: str) -> None:
        self.s3, self.bucket, self.key = s3, bucket, key
        started = s3.create_multipart_upload(Bucket=bucket, Key=key, ContentType=content_type)
        self.upload_id: str = started["UploadId"]
        self.count = 0
        self._etags: dict[int, str] = {}
        self._pool = ThreadPoolExecutor(PARALLEL_PARTS, thread_name_prefix="compose")
        self._in_flight: deque[Future[None]] = deque()

    def _submit(self, send: Callable[[int], str]) -> None:
        self.count += 1
        number = self.count

        def run() -> None:
            self._etags[number] = send(number)

        while len(self._in_flight) >= PARALLEL_PARTS:
            self._in_flight.popleft().result()
        self._in_flight.append(self._pool.submit(run))

    def copy(self, source_key: str, start: int, end: int) -> None:
        def send(number: int) -> str:
            response = self.s3.upload_part_copy(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                CopySource={"Bucket": self.bucket, "Key": source_key},
                CopySourceRange=f"bytes={start}-{end - 1}",
            )
            return _copy_etag(response)

        self._submit(send)

    def upload(self, body: bytes | bytearray) -> None:
        data = bytes(body)

        def send(number: int) -> str:
            response = self.s3.upload_part(
                Bucket=self.bucket,
                Key=self.key,
                UploadId=self.upload_id,
                PartNumber=number,
                Body=data,
            )
            return str(response["ETag"])

        self._submit(send)

    def complete(self) -> str:
        while self._in_flight:
            self._in_flight.popleft().result()
        self._pool.shutdown()
        parts = [{"PartNumber": n, "ETag": self._etags[n]} for n in range(1, self.count + 1)]
        response = self.s3.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": parts},
        )
        return str(response["ETag"]).strip('"')

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        with contextlib.suppress(Exception):  # the bucket's lifecycle rule reaps it otherwise
            self.s3.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
            )


def _copy_etag(response: dict[str, Any]) -> str:
    return str(response["CopyPartResult"]["ETag"])


def compose(
    s3: Any,
    bucket: str,
    key: str,
    pieces: Sequence[Piece],
    content_type: str,
    *,
    min_part: int = MIN_PART_BYTES,
    max_part: int = MAX_PART_BYTES,
) -> Composed:
    """Write `key` as the concatenation of `pieces` (objects in the same bucket)."""
    if max_part < 2 * min_part:
        raise ValueError("max_part must be at least twice min_part (S3: 5 GiB and 5 MiB)")
    total = sum(p.size for p in pieces)
    if total < min_part:  # one part would do: a plain PUT of the (small) whole
        body = b"".join(_read(s3, bucket, p.key, 0, p.size) for p in pieces if p.size)
        response = s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)
        return Composed(key, str(response["ETag"]).strip('"'), total, 0, total, 1)
    parts = _Parts(s3, bucket, key, content_type)
    copied = downloaded = 0
    buffer = bytearray()
    try:
        for piece in pieces:
            position = 0
            while position < piece.size:
                left = piece.size - position
                if not buffer and left >= min_part:
                    # Keep any tail of at least the minimum, or hand it to the buffer.
                    take = min(left, max_part)
                    if 0 < left - take < min_part:
                        take = left - min_part
                    parts.copy(piece.key, position, position + take)
                    copied += take
                else:
                    take = min(left, min_part - len(buffer)) if buffer else left
                    if 0 < left - take < min_part:
                        take = left  # a tail below the minimum would start a new buffer
                    buffer += _read(s3, bucket, piece.key, position, position + take)
                    downloaded += take
                    if len(buffer) >= min_part:
                        parts.upload(buffer)
                        buffer = bytearray()
                position += take
        if buffer:
            parts.upload(buffer)  # the last part may be any size
        etag = parts.complete()
    except BaseException:
        parts.abort()
        raise
    log.info(
        "composed s3://%s/%s from %d pieces: %d parts, %d bytes copied, %d downloaded",
        bucket,
        key,
        len(pieces),
        parts.count,
        copied,
        downloaded,
    )
    return Composed(key, etag, total, copied, downloaded, parts.count)


def _read(s3: Any, bucket: str, key: str, start: int, end: int) -> bytes:
    response = s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
    data: bytes = response["Body"].read()
    return data
