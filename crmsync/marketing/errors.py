"""What the marketing services refuse. They are record errors, so the API answers them
as it answers any record error (404, 422, 409) without a handler of its own."""

from __future__ import annotations

from crmsync.records.errors import RecordConflict, RecordInvalid, RecordNotFound


class JourneyNotFound(RecordNotFound):
    """No such journey in this workspace (another workspace's journey included)."""


class EnrollmentRefused(RecordInvalid):
    """The journey cannot take enrolments (inactive, or gone from the CRM)."""


class RuleInvalid(RecordInvalid):
    """A trigger rule (or a rules file) that cannot be used; ``details`` says where."""


class RuleConflict(RecordConflict):
    """A rule of that name exists already."""
