"""Errors of imports: import kinds of crmsync's errors (``crmsync.errors``), each by its meaning."""

from __future__ import annotations

from crmsync.errors import Conflict, CrmsyncError, Invalid, NotFound, TooLarge


class ImportProblem(CrmsyncError):
    """Any refusal of the import feature."""

    code = "import_error"


class UnreadableFile(ImportProblem, Invalid):
    """The file is not one crmsync can read (binary data, bad encoding, broken XLSX)."""

    code = "unreadable_file"


class FileTooLarge(ImportProblem, TooLarge):
    """Over a size, row or column limit (after decompression for XLSX)."""

    code = "payload_too_large"


class JobNotFound(ImportProblem, NotFound):
    code = "not_found"


class JobStateError(ImportProblem, Conflict):
    """The job is not in a state that allows the action (start a finished job...)."""

    code = "conflict"


class InvalidOptions(ImportProblem, Invalid):
    """A mapping or option that cannot be used."""

    code = "validation_error"
