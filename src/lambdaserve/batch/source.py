"""Where a batch's input text comes from: today one S3 object, or a byte range of one.

A `Source` hands the block pipeline its input as text in chunks (decompressed), with
what the pipeline needs to read it from wherever it starts: the format, the line
number of its first line and, for a range that does not start the input, the input's
header line carried along (the CSV layout is decided by it, and it is not data here).
A queue batch is the next source: its messages as JSON Lines.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from botocore.exceptions import ClientError

from lambdaserve.batch.config import READ_BYTES
from lambdaserve.batch.keys import Format
from lambdaserve.batch.stream import gunzip


class Source(Protocol):
    format: Format
    first_line: int  # input line number of the first line `chunks` yields
    # The input's first line when `chunks` does not start with it (a later byte range).
    header: bytes | None

    def chunks(self) -> Iterator[bytes]:
        """The text, in chunks (cut anywhere; the pipeline splits lines)."""
        ...


@dataclass(frozen=True)
class InputRef:
    """The object an S3 event names (etag/version_id pin the exact version, when known)."""

    bucket: str
    key: str
    etag: str | None = None
    version_id: str | None = None


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of an object, cut at line boundaries by whoever split it."""

    start: int
    end: int
    first_line: int  # the object's line number of the range's first line
    header: bytes | None  # the object's first line, if the format has a header (CSV)

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end or self.first_line < 1:
            raise ValueError(f"not a byte range: {self}")


class S3ObjectSource:
    """One object version, read with `IfMatch` on the event's ETag (a stale event never
    reads a newer upload); `open` starts the GET, `chunks` streams its body."""

    def __init__(
        self,
        s3: Any,
        ref: InputRef,
        format: Format,
        *,
        gzip: bool = False,
        byte_range: ByteRange | None = None,
        read_bytes: int = READ_BYTES,
    ) -> None:
        if gzip and byte_range is not None:
            raise ValueError("a gzip stream cannot be read from the middle: no byte ranges")
        self.s3, self.ref, self.format, self.gzip = s3, ref, format, gzip
        self.byte_range = byte_range
        self.read_bytes = read_bytes
        self.first_line = byte_range.first_line if byte_range else 1
        self.header = byte_range.header if byte_range and byte_range.start > 0 else None
        self._response: dict[str, Any] | None = None
        # What was read (for the summary), once `open` succeeded.
        self.etag: str | None = None
        self.version_id: str | None = None
        self.size: int | None = None

    def open(self) -> str | None:
        """Start reading: None, or why there is nothing to read (the object has been
        replaced or deleted since the event). Other S3 errors are raised."""
        args: dict[str, Any] = {"Bucket": self.ref.bucket, "Key": self.ref.key}
        if self.ref.version_id:
            args["VersionId"] = self.ref.version_id
        if self.ref.etag:
            args["IfMatch"] = f'"{self.ref.etag.strip(chr(34))}"'
        if self.byte_range is not None:
            args["Range"] = f"bytes={self.byte_range.start}-{self.byte_range.end - 1}"
        try:
            response: dict[str, Any] = self.s3.get_object(**args)
        except ClientError as exc:
            gone = _gone(exc)
            if gone is None:
                raise
            return gone
        self._response = response
        self.etag = str(response.get("ETag", "")).strip('"') or None
        self.version_id = response.get("VersionId")
        self.size = response.get("ContentLength")
        return None

    def chunks(self) -> Iterator[bytes]:
        if self._response is None:
            raise RuntimeError("open() the source first")
        chunks: Iterator[bytes] = self._response["Body"].iter_chunks(self.read_bytes)
        return gunzip(chunks, self.read_bytes) if self.gzip else chunks

    def close(self) -> None:
        """Release the connection (also when the body was not read to its end)."""
        response, self._response = self._response, None
        if response is not None:
            with contextlib.suppress(Exception):  # nothing left to release
                response["Body"].close()

    def replaced_since(self) -> str | None:
        """Why results of what was read must not be published (None: still current)."""
        try:
            head = self.s3.head_object(Bucket=self.ref.bucket, Key=self.ref.key)
        except ClientError as exc:
            return _gone(exc)
        if self.etag and str(head.get("ETag", "")).strip('"') != self.etag:
            return "stale event: the object was replaced while it was processed"
        return None


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _gone(exc: ClientError) -> str | None:
    """Why a failed read means "nothing to do" rather than a failure (None: a failure)."""
    code = error_code(exc)
    if code in {"PreconditionFailed", "412"}:
        return "stale event: the object has been replaced since (a newer event covers it)"
    if code in {"NoSuchKey", "404", "NoSuchVersion"}:
        return "the object no longer exists"
    return None
