"""Timeline entries as Salesforce Tasks: completed activities on a record's timeline.

Salesforce shows a record's history as its activities, and a Task is the one activity
the REST API writes with the rest of a record's data (sObject Collections, 200 per
call). Notes are Tasks too: the classic ``Note`` object is retired in Lightning and
``ContentNote`` needs a separate file upload plus a ``ContentDocumentLink`` per record,
three calls per note where a Task is one row of a batch. A Task hangs on a person
(``WhoId``: a contact or lead) or on a thing (``WhatId``: an account or opportunity).
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from crmsync.connectors.base import TimelineEntry
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.salesforce.mappers import with_type

__all__ = ["REFERENCE_FIELDS", "to_task"]

# the object type an entry hangs on -> the Task field that points at it
REFERENCE_FIELDS = {
    "contacts": "WhoId",
    "leads": "WhoId",
    "companies": "WhatId",
    "deals": "WhatId",
}
# the first word of an entry's kind (call, email_sent, meeting_held) -> Task picklists
_TYPES = {"call": "Call", "email": "Email", "meeting": "Meeting"}
_SUBTYPES = {"call": "Call", "email": "Email"}
SUBJECT_LENGTH = 255
DESCRIPTION_LENGTH = 32_000


def to_task(entry: TimelineEntry) -> dict[str, Any]:
    """The Task record of one entry; ``InvalidRecord`` when it hangs on no known object.

    ``entry.data`` adds or overrides Task fields (``CallDurationInSeconds``, ``OwnerId``).
    """
    field = REFERENCE_FIELDS.get(entry.object_type)
    if field is None:
        known = ", ".join(sorted(REFERENCE_FIELDS))
        raise InvalidRecord(
            f"timeline entries hang on {known}, not {entry.object_type}", code="INVALID_TARGET"
        )
    word = entry.kind.split("_", 1)[0].lower()
    default = "Note" if entry.kind == "note" else entry.kind.replace("_", " ").capitalize()
    when = entry.occurred_at
    day = (when.astimezone(UTC) if when.tzinfo else when).date()
    task: dict[str, Any] = {
        field: entry.remote_id,
        "Subject": (entry.subject or default)[:SUBJECT_LENGTH],
        "Status": "Completed",  # the entry reports something that happened
        "ActivityDate": day,
        "Type": _TYPES.get(word, "Other"),
        "TaskSubtype": _SUBTYPES.get(word, "Task"),
    }
    if entry.body:
        task["Description"] = entry.body[:DESCRIPTION_LENGTH]
    task.update(entry.data)
    return with_type("Task", task)
