"""The one error the local runtime raises for user mistakes: the CLI prints it, no traceback."""

from __future__ import annotations


class LocalError(Exception):
    """A user-facing problem (bad template, unknown function, busy port ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvokeRejected(LocalError):
    """Lambda refused the invocation itself (before any code ran): Invoke API error types."""

    def __init__(self, message: str, error_type: str, status: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.status = status
