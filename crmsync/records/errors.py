"""What the record services refuse, in terms the API and CLI turn into answers."""

from __future__ import annotations

from typing import Any


class RecordError(Exception):
    code = "invalid"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class RecordNotFound(RecordError):
    code = "not_found"


class RecordInvalid(RecordError):
    code = "validation_error"


class RecordConflict(RecordError):
    code = "conflict"
