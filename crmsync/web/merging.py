"""Merging two duplicate contacts with a field picker: the person chooses, field by field,
which contact's value the survivor keeps.

The dedup merge (``dedup.merge``) does the merge itself (references and Links moved, the
other contact soft-deleted, CRM jobs queued); the picked values the merge did not keep
are then written to the survivor, in the same transaction, with the source ``merge``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from crmsync.dedup.merge import merge
from crmsync.dedup.strategies import Strategy
from crmsync.records.errors import RecordInvalid
from crmsync.records.service import get_record, update_record
from crmsync.store.models import Contact

# Plain fields a person can compare at a glance; the rest follow the merge's strategy.
PICKED = (
    "first_name", "last_name", "email", "phone", "company", "job_title", "contact_type",
    "lifecycle_stage", "status", "source", "owner", "address_line1", "city", "state",
    "postal_code", "country",
)  # fmt: skip


@dataclass(frozen=True)
class Choice:
    field: str
    left: object
    right: object

    @property
    def differs(self) -> bool:
        return self.left != self.right


def choices(left: Contact, right: Contact) -> list[Choice]:
    return [Choice(f, getattr(left, f), getattr(right, f)) for f in PICKED]


def merge_picked(
    session: Session,
    workspace_id: uuid.UUID,
    survivor_id: uuid.UUID,
    other_id: uuid.UUID,
    picks: Mapping[str, uuid.UUID],
) -> Contact:
    """Merge ``other_id`` into ``survivor_id``; ``picks`` maps a field to the contact
    whose value it keeps (fields left out keep the merge's choice)."""
    contacts = {
        i: get_record(session, workspace_id, "contacts", i, follow_merges=False)
        for i in (survivor_id, other_id)
    }
    unknown = sorted(set(picks) - set(PICKED))
    if unknown:
        raise RecordInvalid(f"pick: not a field to pick: {', '.join(unknown)}")
    if any(owner not in contacts for owner in picks.values()):
        raise RecordInvalid("pick: each field takes the value of one of the two contacts")
    wanted = {f: getattr(contacts[owner], f) for f, owner in picks.items()}
    result = merge(session, workspace_id, survivor_id, [other_id], Strategy.MERGE)
    changes = {f: v for f, v in wanted.items() if getattr(result.survivor, f) != v}
    if changes:
        update_record(session, workspace_id, "contacts", survivor_id, changes, "merge")
    survivor = get_record(session, workspace_id, "contacts", survivor_id)
    assert isinstance(survivor, Contact)
    return survivor
