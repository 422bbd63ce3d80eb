"""One error hierarchy for the whole package: each error knows its HTTP status.

Routers never build error responses by hand; they raise, and the single exception
handler in `rest.app` renders `{"error": message}` with `status`.
"""

from __future__ import annotations


class LambdaserveError(Exception):
    """Base error: a message safe to show to callers, and the HTTP status it maps to."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidInput(LambdaserveError):
    """The caller sent something we cannot turn into a valid model input."""

    status = 400


class ModelNotFound(LambdaserveError):
    """Unknown model, version or label."""

    status = 404


class UnsupportedMediaType(LambdaserveError):
    status = 415


class PayloadTooLarge(LambdaserveError):
    status = 413


class ModelLoadError(LambdaserveError):
    """A model in the repository is broken: our fault, not the caller's."""

    status = 500


class ModelNotReady(LambdaserveError):
    """A version that failed to load at init: the function stays up and says which and why
    (the reason names no file path or library), instead of failing its init over and over."""

    status = 503
