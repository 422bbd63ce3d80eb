"""The one error the model tooling raises: its message is the whole, one-line story."""

from __future__ import annotations


class ModelKitError(Exception):
    """A refused source, a bad option or an inconsistent repository; printed as one line."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = " ".join(message.split())  # one line, whatever the cause said
