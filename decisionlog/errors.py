"""The decision log's one error type: str() is one line for the person at the keyboard."""

from __future__ import annotations


class LogError(ValueError):
    """The log could not be opened, read or written, or was given a bad URL or ID."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))
