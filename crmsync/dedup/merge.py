"""Merge duplicate contacts into one survivor, in the caller's transaction.

One call: picks each field's value by strategy (``strategies``), writes the survivor's
changes with ChangeLog source ``merge``, moves the records that point at the merged-away
contacts (``REFERENCES``) and their integration Links, soft-deletes the merged-away
contacts, remembers where each went (``merged``), and enqueues the CRM side: an upsert
of the survivor, and a ``merge`` job per integration where a merged-away contact has its
own remote record (``crmsync.sync.merge_effect`` runs it). Nothing here commits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.dedup.strategies import DERIVED, Strategy, field_times, merged_values, newest_first
from crmsync.records import changelog, merged
from crmsync.records.errors import RecordConflict, RecordInvalid, RecordNotFound
from crmsync.store.models import (
    Activity,
    Contact,
    Deal,
    Enrollment,
    EnrollmentStatus,
    Journey,
    Lead,
    Link,
    Note,
    RecordBase,
    Ticket,
    Touchpoint,
)
from crmsync.sync import outbox

SOURCE = "merge"
MAX_MERGED = 50
# Records that point at a contact, moved to the survivor (touchpoints and journey
# enrolments too: ``_move_touchpoints``, ``_move_enrollments``).
REFERENCES: tuple[tuple[type[RecordBase], str], ...] = (
    (Activity, "contact_id"),
    (Note, "contact_id"),
    (Lead, "contact_id"),
    (Deal, "contact_id"),
    (Ticket, "contact_id"),
)


@dataclass
class MergeResult:
    survivor: Contact
    merged_ids: list[uuid.UUID]
    changed_fields: list[str]
    # what moved to the survivor: "links" and one count per REFERENCES record type
    moved: dict[str, int] = field(default_factory=dict)
    # CRM-side jobs enqueued: survivor upserts, and merge jobs for remote duplicates
    crm_jobs: dict[str, int] = field(default_factory=dict)


def merge(
    session: Session,
    workspace_id: uuid.UUID,
    survivor_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    strategy: Strategy | str,
) -> MergeResult:
    """Merge ``merged_ids`` into ``survivor_id``. Refuses with RecordInvalid (bad input),
    RecordNotFound (missing or another workspace's) or RecordConflict (already merged)."""
    strategy = _strategy(strategy)
    merged_ids = list(dict.fromkeys(merged_ids))
    if not merged_ids:
        raise RecordInvalid("merged_ids must name at least one contact")
    if len(merged_ids) > MAX_MERGED:
        raise RecordInvalid(f"at most {MAX_MERGED} contacts per merge")
    if survivor_id in merged_ids:
        raise RecordInvalid("a contact cannot be merged into itself")
    survivor, others = _load(session, workspace_id, survivor_id, merged_ids)
    now = datetime.now(UTC)
    records = [survivor, *others]
    values = merged_values(strategy, records, field_times(session, workspace_id, records))
    log: list[changelog.Row] = []
    changes = _apply(survivor, values)
    donor = _take_external_ref(session, survivor, others, strategy)
    if donor is not None:
        changes["external_ref"] = (None, survivor.external_ref)
    survivor.updated_at = now
    survivor.version += 1
    log += changelog.changelog_rows(workspace_id, "contacts", survivor.id, changes, SOURCE, now)
    for other in others:
        other.deleted_at = now
        other.updated_at = now
        other.version += 1
        marks: dict[str, tuple[Any, Any]] = {
            "deleted_at": (None, now),
            "merged_into": (None, survivor.id),
        }
        if other is donor:
            marks["external_ref"] = (survivor.external_ref, None)
        log += changelog.changelog_rows(workspace_id, "contacts", other.id, marks, SOURCE, now)
    result = MergeResult(survivor, merged_ids, sorted(changes))
    for model, column in REFERENCES:
        result.moved[model.record_type] = _move_references(
            session, workspace_id, model, column, survivor.id, merged_ids, now, log
        )
    result.moved["touchpoints"] = _move_touchpoints(session, workspace_id, survivor.id, merged_ids)
    result.moved["enrollments"] = _move_enrollments(
        session, workspace_id, survivor.id, merged_ids, now
    )
    result.moved["links"], remote_duplicates = _move_links(session, survivor.id, merged_ids)
    changelog.write(session, log)
    merged.remember(session, workspace_id, "contacts", survivor.id, merged_ids, strategy.value)
    result.crm_jobs["upsert"] = outbox.enqueue(
        session, workspace_id, "contacts", [survivor.id], source=SOURCE
    )
    result.crm_jobs["merge"] = sum(
        outbox.enqueue(
            session,
            workspace_id,
            "contacts",
            [link.record_id],
            operation="merge",
            source=SOURCE,
            only=link.integration_id,
        )
        for link in remote_duplicates
    )
    session.flush()
    return result


def _strategy(value: Strategy | str) -> Strategy:
    try:
        return Strategy(value)
    except ValueError:
        known = ", ".join(s.value for s in Strategy)
        raise RecordInvalid(f"strategy must be one of {known}; got {value!r}") from None


def _load(
    session: Session, workspace_id: uuid.UUID, survivor_id: uuid.UUID, merged_ids: list[uuid.UUID]
) -> tuple[Contact, list[Contact]]:
    """The survivor and the merged-away contacts, locked; refuses any that cannot merge."""
    ids = [survivor_id, *merged_ids]
    found = {
        c.id: c
        for c in session.scalars(
            select(Contact)
            .where(Contact.id.in_(ids))
            .order_by(Contact.id)  # one lock order for concurrent merges
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    went = merged.survivors_of(session, workspace_id, "contacts", ids)
    for record_id in ids:
        contact = found.get(record_id)
        # Another workspace's contact answers exactly like a missing one.
        if contact is None or contact.workspace_id != workspace_id:
            raise RecordNotFound(f"no contact with id {record_id}")
        if record_id in went:
            raise RecordConflict(
                f"contact {record_id} was already merged into {went[record_id]}",
                {"id": str(record_id), "survivor_id": str(went[record_id])},
            )
        if contact.deleted_at is not None:
            raise RecordNotFound(f"no contact with id {record_id}")
    return found[survivor_id], [found[i] for i in merged_ids]


def _apply(survivor: Contact, values: dict[str, tuple[Any, Contact | None]]) -> dict[str, Any]:
    before = {name: getattr(survivor, name) for name in values}
    after = {name: value for name, (value, _source) in values.items()}
    changes = changelog.diff(before, after)
    for name in changes:
        value, source = values[name]
        setattr(survivor, name, value)
        if name in DERIVED and source is not None:
            setattr(survivor, DERIVED[name], getattr(source, DERIVED[name]))
    return changes


def _take_external_ref(
    session: Session, survivor: Contact, others: list[Contact], strategy: Strategy
) -> Contact | None:
    """A survivor without an external_ref takes the preferred merged-away one's (it is
    unique per workspace, so it leaves the merged-away record); returns that record."""
    if survivor.external_ref is not None:
        return None
    ordered = newest_first(others)
    if strategy is Strategy.PREFER_EXISTING:
        ordered.reverse()
    donor = next((o for o in ordered if o.external_ref), None)
    if donor is None:
        return None
    ref, donor.external_ref = donor.external_ref, None
    session.flush()  # free the ref before the survivor takes it
    survivor.external_ref = ref
    return donor


def _move_references(
    session: Session,
    workspace_id: uuid.UUID,
    model: type[RecordBase],
    column: str,
    survivor_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    now: datetime,
    log: list[changelog.Row],
) -> int:
    pointer = getattr(model, column)
    moving = list(
        session.scalars(
            select(model).where(model.workspace_id == workspace_id, pointer.in_(merged_ids))
        )
    )
    for record in moving:
        change = {column: (getattr(record, column), survivor_id)}
        setattr(record, column, survivor_id)
        record.updated_at = now
        record.version += 1
        log += changelog.changelog_rows(
            workspace_id, model.record_type, record.id, change, SOURCE, now
        )
    outbox.enqueue(session, workspace_id, model.record_type, [r.id for r in moving], source=SOURCE)
    return len(moving)


def _move_touchpoints(
    session: Session, workspace_id: uuid.UUID, survivor_id: uuid.UUID, merged_ids: list[uuid.UUID]
) -> int:
    """The merged-away contacts' marketing touches become the survivor's: its path to a
    conversion (attribution) is the whole person's."""
    moved = session.execute(
        update(Touchpoint)
        .where(Touchpoint.workspace_id == workspace_id, Touchpoint.contact_id.in_(merged_ids))
        .values(contact_id=survivor_id)
        .execution_options(synchronize_session="fetch")
    )
    return int(moved.rowcount or 0)  # type: ignore[attr-defined]


def _move_enrollments(
    session: Session,
    workspace_id: uuid.UUID,
    survivor_id: uuid.UUID,
    merged_ids: list[uuid.UUID],
    now: datetime,
) -> int:
    """The merged-away contacts' journey enrolments become the survivor's. An active one in
    a journey the survivor is already active in ends (``unenrolled`` by ``merge``): one
    person is in a journey once. Changed active enrolments are pushed to their journey's CRM."""
    enrollments = list(
        session.scalars(
            select(Enrollment)
            .where(Enrollment.workspace_id == workspace_id)
            .where(Enrollment.contact_id.in_([survivor_id, *merged_ids]))
            .order_by(Enrollment.enrolled_at, Enrollment.id)
        )
    )
    active = {e.journey_id for e in enrollments if e.contact_id == survivor_id and _active(e)}
    moving = [e for e in enrollments if e.contact_id != survivor_id]
    pushed: dict[uuid.UUID, list[uuid.UUID]] = {}
    for enrollment in moving:
        if _active(enrollment):
            if enrollment.journey_id in active:
                enrollment.status = EnrollmentStatus.UNENROLLED
                enrollment.ended_at = now
                enrollment.ended_by = SOURCE
            active.add(enrollment.journey_id)
            pushed.setdefault(enrollment.journey_id, []).append(enrollment.id)
        enrollment.contact_id = survivor_id
    session.flush()
    journeys = session.scalars(select(Journey).where(Journey.id.in_(pushed))).all()
    for journey in journeys:
        outbox.enqueue(
            session,
            workspace_id,
            "enrollments",
            pushed[journey.id],
            source=SOURCE,
            integrations=[journey.integration_id],
        )
    return len(moving)


def _active(enrollment: Enrollment) -> bool:
    return enrollment.status == EnrollmentStatus.ACTIVE


def _move_links(
    session: Session, survivor_id: uuid.UUID, merged_ids: list[uuid.UUID]
) -> tuple[int, list[Link]]:
    """Move each merged-away contact's Link to the survivor where the survivor has none in
    that integration; the others stay (they name a remote duplicate) and are returned."""
    links = list(
        session.scalars(
            select(Link)
            .where(Link.object_type == "contacts", Link.record_id.in_([survivor_id, *merged_ids]))
            .order_by(Link.integration_id, Link.id)
        )
    )
    linked = {link.integration_id for link in links if link.record_id == survivor_id}
    moved = 0
    remote_duplicates: list[Link] = []
    for link in links:
        if link.record_id == survivor_id:
            continue
        if link.integration_id in linked:
            remote_duplicates.append(link)
            continue
        # The survivor now owns this remote record; push it there in full.
        link.record_id = survivor_id
        link.last_pushed_hash = None
        linked.add(link.integration_id)
        moved += 1
    return moved, remote_duplicates
