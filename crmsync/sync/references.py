"""References between records, translated through Links (``mapping.schema.RELATIONS``).

A canonical record names another by crmsync id (a deal's ``contact_id``); a CRM names
it by its own id. Outbound, every declared reference the mapping reads becomes the
target's remote id in that CRM before the record is mapped, so each provider's mapping
puts it where that CRM wants it (a HubSpot association, a Salesforce lookup, a Pipedrive
``person_id``, a Total Expert ``contact`` relationship). Inbound, the other way round.

Outbound outcomes, per reference of a record being pushed (``plan_outbound``):

- the target is linked in this CRM: its remote id goes out;
- the target is live, not linked yet, and this integration pushes its type: the record
  *waits* (its job goes back without spending an attempt) and the target's push is
  pulled forward (a real-time job, unless one is pending or running already);
- the target's last push failed (a dead letter or refused record) or it was pushed and
  unlinked since (deleted in the CRM), the target is deleted or gone, or this
  integration does not push its type: the record goes out without that reference.

It is never sent with an id the CRM does not know, and never fails for it. When such a
target is linked later (a replayed dead letter), the records pointing at it are queued
again (``requeue_dependents``) and the reference follows.

Relations only point from children to parents, and no type reaches itself through them,
so a record never waits for itself: there are no cycles to break.

Inbound (``translate_inbound``): a remote id with a Link becomes the crmsync id; one
without is left out of the record and kept as a ``PendingReference``, filled in when a
record arrives under that remote id (``resolve_pending``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crmsync.mapping.schema import Relation, children_of, relations_of
from crmsync.records import service
from crmsync.records.errors import RecordError
from crmsync.store.models import RECORD_MODELS, Link, PendingReference, SyncJob, SyncJobStatus
from crmsync.sync import outbox

__all__ = [
    "WAIT",
    "OutboundPlan",
    "outbound_view",
    "plan_outbound",
    "pull_forward",
    "remember_pending",
    "requeue_dependents",
    "resolve_pending",
    "translate_inbound",
]

# how long a record waiting for its parent's push waits before it is looked at again
WAIT = timedelta(seconds=1)
_IN_FLIGHT = (SyncJobStatus.PENDING, SyncJobStatus.RUNNING)


def _as_uuid(value: Any) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class OutboundPlan:
    """What ``plan_outbound`` decided for a group of records."""

    # record id -> (why it waits, not before when)
    waiting: dict[uuid.UUID, tuple[str, datetime]] = field(default_factory=dict)
    # parent record type -> ids whose push is pulled forward
    pull: dict[str, set[uuid.UUID]] = field(default_factory=dict)


def _remote_ids(
    session: Session, integration_id: uuid.UUID, object_type: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(Link.record_id, Link.remote_id).where(
            Link.integration_id == integration_id,
            Link.object_type == object_type,
            Link.record_id.in_(wanted),
        )
    )
    return {record_id: remote_id for record_id, remote_id in rows}


def _live(session: Session, object_type: str, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    model = RECORD_MODELS[object_type]
    rows = session.scalars(select(model.id).where(model.id.in_(wanted), model.deleted_at.is_(None)))
    return set(rows)


def _job_states(
    session: Session, integration_id: uuid.UUID, object_type: str, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[set[str], datetime | None]]:
    """Record id -> (statuses of its upsert jobs since it last succeeded, the earliest
    time a pending one is due)."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(SyncJob.record_id, SyncJob.status, SyncJob.next_attempt_at, SyncJob.id)
        .where(
            SyncJob.integration_id == integration_id,
            SyncJob.object_type == object_type,
            SyncJob.record_id.in_(wanted),
            SyncJob.operation == "upsert",
        )
        .order_by(SyncJob.id)
    )
    out: dict[uuid.UUID, tuple[set[str], datetime | None]] = {}
    for record_id, status, due, _id in rows:
        statuses, first_due = out.get(record_id, (set(), None))
        if status == SyncJobStatus.SUCCEEDED:
            statuses = set()  # only what happened since the last success counts
        statuses.add(status)
        if status == SyncJobStatus.PENDING:
            first_due = due if first_due is None else min(first_due, due)
        out[record_id] = (statuses, first_due)
    return out


def plan_outbound(
    session: Session,
    integration_id: uuid.UUID,
    object_type: str,
    records: Mapping[Any, dict[str, Any]],
    pushes: Callable[[str], bool],
    now: datetime,
) -> OutboundPlan:
    """Put each reference's remote id into ``records`` (in place), or decide it waits.

    ``records`` are the rows about to be mapped (keyed by record id); only the reference
    fields they hold are looked at. ``pushes(type)`` says whether the integration pushes
    records of that type.
    """
    plan = OutboundPlan()
    for relation in relations_of(object_type):
        wanted = {
            record_id: parent
            for record_id, row in records.items()
            if relation.field in row and (parent := _as_uuid(row[relation.field])) is not None
        }
        if not wanted:
            continue
        # The parents' jobs are read before their Links: each read may see a newer
        # state (autocommit reads, read committed), and a push that ends commits its
        # Link with its success. Read the other way round, a push ending in between
        # would look like one that ended without a Link, and the child would go
        # without its parent.
        states = (
            _job_states(session, integration_id, relation.target, wanted.values())
            if pushes(relation.target)
            else {}
        )
        remote = _remote_ids(session, integration_id, relation.target, wanted.values())
        live = _live(session, relation.target, wanted.values())
        unlinked = {p for p in wanted.values() if p in live and p not in remote}
        for record_id, parent in wanted.items():
            row = records[record_id]
            if parent in live and parent in remote:
                row[relation.field] = remote[parent]
                continue
            row[relation.field] = None  # never an id the CRM does not know
            if parent not in unlinked or not pushes(relation.target):
                continue
            statuses, due = states.get(parent, (set(), None))
            if statuses and not statuses & set(_IN_FLIGHT):
                # its push failed (a replay brings it later), or it was pushed and
                # unlinked since (deleted in the CRM): go without it, never recreate it
                continue
            if not statuses:
                plan.pull.setdefault(relation.target, set()).add(parent)
            at = max(now + WAIT, due or now)
            why = f"waiting for {relation.target} {parent} to reach the CRM"
            plan.waiting.setdefault(record_id, (why, at))
    return plan


def pull_forward(
    session: Session, workspace_id: uuid.UUID, integration_id: uuid.UUID, plan: OutboundPlan
) -> None:
    """Queue real-time pushes of the parents the waiting records need."""
    for object_type, ids in sorted(plan.pull.items()):
        outbox.enqueue(
            session,
            workspace_id,
            object_type,
            sorted(ids),
            priority=outbox.Priority.REALTIME,
            integrations=[integration_id],
        )


def requeue_dependents(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    object_type: str,
    linked: Iterable[uuid.UUID],
    pushes: Callable[[str], bool],
) -> None:
    """Records newly linked in a CRM: queue again the records pointing at them that
    this CRM already holds, so a reference they went out without follows them now."""
    ids = list(set(linked))
    if not ids:
        return
    for relation in children_of(object_type):
        if not pushes(relation.source):
            continue
        model = RECORD_MODELS[relation.source]
        column = getattr(model, relation.field)
        children = session.scalars(
            select(model.id)
            .join(
                Link,
                (Link.record_id == model.id)
                & (Link.integration_id == integration_id)
                & (Link.object_type == relation.source),
            )
            .where(column.in_(ids), model.deleted_at.is_(None))
        ).all()
        if children:
            outbox.enqueue(
                session,
                workspace_id,
                relation.source,
                sorted(set(children)),
                integrations=[integration_id],
            )


def outbound_view(
    session: Session, integration_id: uuid.UUID, object_type: str, values: dict[str, Any]
) -> dict[str, Any]:
    """``values`` of one record with each reference as that CRM's id (None when the
    target is not linked there): what the CRM would hold after a push."""
    out = dict(values)
    for relation in relations_of(object_type):
        parent = _as_uuid(out.get(relation.field))
        if relation.field not in out:
            continue
        remote = _remote_ids(session, integration_id, relation.target, [parent] if parent else [])
        out[relation.field] = remote.get(parent) if parent else None
    return out


@dataclass(frozen=True, slots=True)
class Pending:
    """A reference read from a CRM whose target is not linked yet."""

    relation: Relation
    remote_id: str


def translate_inbound(
    session: Session, integration_id: uuid.UUID, object_type: str, values: dict[str, Any]
) -> list[Pending]:
    """Turn each reference's remote id in ``values`` (in place) into the crmsync id; the
    ones with no Link yet leave ``values`` and come back as ``Pending``."""
    pending: list[Pending] = []
    for relation in relations_of(object_type):
        if relation.field not in values:
            continue
        raw = values[relation.field]
        if raw is None or raw == "":
            continue
        remote_id = str(raw)
        record_id = session.scalar(
            select(Link.record_id).where(
                Link.integration_id == integration_id,
                Link.object_type == relation.target,
                Link.remote_id == remote_id,
            )
        )
        if record_id is not None and _live(session, relation.target, [record_id]):
            values[relation.field] = str(record_id)
        else:
            del values[relation.field]
            pending.append(Pending(relation, remote_id))
    return pending


def remember_pending(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    object_type: str,
    record_id: uuid.UUID,
    pending: Iterable[Pending],
    resolved: Iterable[str] = (),
) -> None:
    """Keep the record's pending references (one per field, the latest read wins) and
    drop those of ``resolved`` fields, which a read has just filled."""
    pending = list(pending)
    fields = {p.relation.field for p in pending} | set(resolved)
    if not fields:
        return
    session.execute(
        delete(PendingReference).where(
            PendingReference.integration_id == integration_id,
            PendingReference.object_type == object_type,
            PendingReference.record_id == record_id,
            PendingReference.field.in_(sorted(fields)),
        )
    )
    for item in pending:
        session.add(
            PendingReference(
                workspace_id=workspace_id,
                integration_id=integration_id,
                object_type=object_type,
                record_id=record_id,
                field=item.relation.field,
                target_type=item.relation.target,
                remote_id=item.remote_id,
            )
        )
    session.flush()


def resolve_pending(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    target_type: str,
    remote_id: str,
    record_id: uuid.UUID,
) -> int:
    """A record of ``target_type`` is now linked under ``remote_id``: fill the fields
    waiting for it (as a change from that CRM) and drop their rows. Returns how many."""
    rows = session.scalars(
        select(PendingReference).where(
            PendingReference.integration_id == integration_id,
            PendingReference.target_type == target_type,
            PendingReference.remote_id == remote_id,
        )
    ).all()
    filled = 0
    for row in rows:
        try:
            service.update_record(
                session,
                workspace_id,
                row.object_type,
                row.record_id,
                {row.field: str(record_id)},
                f"crm:{integration_id}",
            )
            filled += 1
        except RecordError:
            pass  # the record is gone or deleted since: nothing to fill
        session.delete(row)
    if rows:
        session.flush()
    return filled
