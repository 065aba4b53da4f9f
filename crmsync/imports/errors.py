"""Errors of imports, by what the caller does: refuse the file, or refuse the request."""

from __future__ import annotations


class ImportProblem(Exception):
    """Base class; ``code`` is the API error code."""

    code = "import_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnreadableFile(ImportProblem):
    """The file is not one crmsync can read (binary data, bad encoding, broken XLSX)."""

    code = "unreadable_file"
    status = 422


class FileTooLarge(ImportProblem):
    """Over a size, row or column limit (after decompression for XLSX)."""

    code = "payload_too_large"
    status = 413


class JobNotFound(ImportProblem):
    code = "not_found"
    status = 404


class JobStateError(ImportProblem):
    """The job is not in a state that allows the action (start a finished job...)."""

    code = "conflict"
    status = 409


class InvalidOptions(ImportProblem):
    """A mapping or option that cannot be used."""

    code = "validation_error"
    status = 422
