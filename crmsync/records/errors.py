"""What the record services refuse: record kinds of crmsync's errors (``crmsync.errors``)."""

from __future__ import annotations

from crmsync.errors import Conflict, CrmsyncError, Invalid, NotFound


class RecordError(CrmsyncError):
    """Any refusal of a record service."""


class RecordNotFound(RecordError, NotFound):
    pass


class RecordInvalid(RecordError, Invalid):
    pass


class RecordConflict(RecordError, Conflict):
    pass
