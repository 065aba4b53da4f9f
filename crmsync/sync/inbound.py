"""Apply a record read from a CRM (by webhook or polling) to the canonical store.

The remote record is matched by Link, else (contacts) by normalised email, and merged
property by property (``reconcile``) against the app's value and what that CRM was last
known to hold (``fieldstate``), under the integration's conflict policy:

- ``last_write_wins``: a property only the CRM changed comes in; one changed on both
  sides goes to the later write (the CRM's per-property time, else its record modified
  time, against the field's last ChangeLog time);
- ``crm_wins``: a CRM change comes in; ``app_wins``: the CRM only fills empty fields;
- ``manual``: a property changed on both sides becomes one open Conflict per field,
  and is pushed to that CRM only once resolved.

When the app keeps a value the CRM does not hold, a push to that CRM is queued, so the
two converge. CRM changes are written with source ``crm:<integration id>`` and stamped
with the CRM's own time, so they are never pushed back to the same integration (and
are pushed to the others).

Deletes are tombstones: a Link whose record is deleted stays, and a read of its remote
record changes nothing — a deleted record is never brought back, nor created again
under a new id, by an edit that raced its delete.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.integrations.config import ConflictPolicy, SyncConfig
from crmsync.mapping.engine import compile_inbound, compile_outbound, map_inbound
from crmsync.mapping.model import MappingSet
from crmsync.quality.normalize import normalize_email
from crmsync.records import service
from crmsync.records.changelog import CREATED, json_value, last_written
from crmsync.records.errors import RecordError
from crmsync.store.models import ChangeLog, Contact, Integration, Link, RecordBase
from crmsync.sync import fieldstate, outbox, references
from crmsync.sync.conflicts import conflicts_of_read
from crmsync.sync.reconcile import Action, Sides, decide


@dataclass(frozen=True)
class Applied:
    """What happened to one remote record."""

    outcome: str  # created | updated | unchanged | deleted | conflict | error
    record_id: uuid.UUID | None = None
    conflicts: int = 0
    error: str | None = None
    # some properties were read before crmsync learnt what the CRM holds (a push was
    # acknowledged after the read began): they decided nothing and must be read again
    stale: bool = False


def apply_remote(
    session: Session,
    integration: Integration,
    object_type: str,
    remote: RemoteRecord,
    mapping: MappingSet,
    now: datetime,
    region: str = "US",
    read_at: datetime | None = None,
) -> Applied:
    """Apply one remote record; ``read_at`` is when its read began (default ``now``)."""
    config = SyncConfig.model_validate(integration.config or {})
    source = f"crm:{integration.id}"
    read_at = read_at or now
    link = _link(session, integration.id, object_type, remote.remote_id)
    record = _linked_record(session, integration, object_type, link)
    if link is not None and record is None:
        return Applied("unchanged", link.record_id)  # a tombstone: the delete stands
    if remote.archived:
        return _apply_deletion(session, integration, object_type, link, record, config, source)
    try:
        if record is None:
            values = map_inbound(mapping, object_type, dict(remote.properties), region).values
            pending = references.translate_inbound(session, integration.id, object_type, values)
            record = _match(session, integration.workspace_id, object_type, values)
            if record is None:
                created = service.create_record(
                    session, integration.workspace_id, object_type, values, source
                )
                references.remember_pending(
                    session,
                    integration.workspace_id,
                    integration.id,
                    object_type,
                    created.id,
                    pending,
                )
                _remember(session, integration, object_type, created.id, remote, mapping, read_at)
                _touch_link(session, integration, object_type, created.id, remote, link, now)
                return Applied("created", created.id)
        for _ in range(_MERGE_TRIES):
            merged = _merge(
                session,
                integration,
                object_type,
                record,
                remote,
                link,
                mapping,
                config,
                read_at,
                region,
            )
            if merged is not None:
                break
        if merged is None:
            return Applied("unchanged", record.id, stale=True)  # read it again
    except RecordError as exc:
        return Applied("error", record.id if record else None, error=exc.message)
    _touch_link(session, integration, object_type, record.id, remote, link, now)
    if merged.conflicts:
        return Applied("conflict", record.id, conflicts=merged.conflicts, stale=merged.stale)
    return Applied("updated" if merged.changed else "unchanged", record.id, stale=merged.stale)


def _link(
    session: Session, integration_id: uuid.UUID, object_type: str, remote_id: str
) -> Link | None:
    return session.scalar(
        select(Link).where(
            Link.integration_id == integration_id,
            Link.object_type == object_type,
            Link.remote_id == remote_id,
        )
    )


def _linked_record(
    session: Session, integration: Integration, object_type: str, link: Link | None
) -> RecordBase | None:
    """The Link's live record (its survivor, if it was merged away); None when it is
    deleted or gone."""
    if link is None:
        return None
    try:
        return service.get_record(session, integration.workspace_id, object_type, link.record_id)
    except RecordError:
        return None


def _match(
    session: Session, workspace_id: uuid.UUID, object_type: str, values: dict[str, Any]
) -> RecordBase | None:
    """An unlinked remote contact is the app's contact with the same email, if any."""
    if object_type != "contacts":
        return None
    key = normalize_email(values.get("email"))
    if key is None:
        return None
    return session.scalar(
        select(Contact)
        .where(
            Contact.workspace_id == workspace_id,
            Contact.email_key == key,
            Contact.deleted_at.is_(None),
        )
        .order_by(Contact.created_at, Contact.id)
        .limit(1)
    )


# A record written by someone else between the decision and its write is decided again,
# on its new values; after this many tries the read is set aside to be read again.
_MERGE_TRIES = 3


@dataclass
class _Merged:
    changed: bool = False
    conflicts: int = 0
    stale: bool = False


def _properties(mapping: MappingSet, object_type: str) -> dict[str, tuple[str, ...]]:
    """Remote top-level property -> the canonical top-level fields it fills."""
    out: dict[str, tuple[str, ...]] = {}
    for step in compile_inbound(mapping, object_type).steps:
        prop, name = step.read.split(".", 1)[0], step.write.split(".", 1)[0]
        out[prop] = (*out.get(prop, ()), name) if name not in out.get(prop, ()) else out[prop]
    return out


def _merge(
    session: Session,
    integration: Integration,
    object_type: str,
    record: RecordBase,
    remote: RemoteRecord,
    link: Link | None,
    mapping: MappingSet,
    config: SyncConfig,
    read_at: datetime,
    region: str,
) -> _Merged | None:
    """Decide each mapped property (``reconcile.decide``) and apply the decisions; None
    when the record changed meanwhile (nothing is written then: decide again)."""
    session.flush()
    session.refresh(record)  # decide on the record as stored now, not a cached copy
    if record.deleted_at is not None:
        return _Merged()  # deleted meanwhile: the delete stands
    version = record.version
    policy = config.conflict_policy
    seen_copy = link.remote_modified_at if link else None
    changed_at = remote.modified_at
    lww = policy is ConflictPolicy.LAST_WRITE_WINS
    if lww and seen_copy is not None and changed_at is not None and changed_at < seen_copy:
        return _Merged()  # an older copy than the one last seen (a late or replayed read)
    outbound = compile_outbound(mapping, object_type)
    types = fieldstate.wire_types(compile_inbound(mapping, object_type))
    mine = {k: getattr(record, k, None) for k in outbound.reads()}
    local = outbound.apply(
        references.outbound_view(session, integration.id, object_type, mine), region
    ).values
    pushed = set(local) | set(fieldstate.wire_types(outbound))
    known = fieldstate.load(session, integration.id, object_type, [record.id]).get(record.id, {})
    written = {f: at for (_r, f), at in last_written(session, [record.id]).items()}
    fields_of = _properties(mapping, object_type)
    times = remote.field_times or {}
    seen: dict[str, Any] = {}
    seen_at: dict[str, datetime | None] = {}
    take: dict[str, datetime] = {}
    conflicts: dict[str, Any] = {}
    push = stale = False
    history: list[_Past] | None = None  # read when first needed
    for prop, names in fields_of.items():
        if prop not in remote.properties:
            continue
        incoming = remote.properties[prop]
        crm_at = times.get(prop) or remote.modified_at or read_at
        local_times = [written[n] for n in names if n in written]
        kind = types.get(prop)
        echo_at = None
        if not fieldstate.same(incoming, local.get(prop), kind, region):
            if history is None:
                history = _past_values(session, record)
            echo_at = _held_before(
                history,
                names,
                (incoming, kind, region),
                integration.created_at,
                f"crm:{integration.id}",
            )
        sides = Sides(
            incoming=incoming,
            local=local.get(prop),
            known=known.get(prop),
            crm_at=crm_at,
            local_at=max(local_times) if local_times else None,
            read_at=read_at,
            last_sync=link.last_synced_at if link else None,
            kind=kind,
            pushed=prop in pushed,
            echo_at=echo_at,
        )
        action = decide(policy, sides, region)
        if action is Action.STALE:
            stale = True
            continue
        seen[prop], seen_at[prop] = incoming, crm_at
        if action is Action.TAKE:
            take[prop] = crm_at
        elif action is Action.PUSH:
            push = True
        elif action is Action.CONFLICT:
            conflicts[prop] = incoming
    if take and not _still(session, record, version):
        return None
    merged = _Merged(stale=stale)
    if policy is ConflictPolicy.MANUAL:
        merged.conflicts = conflicts_of_read(
            session,
            integration,
            record,
            remote,
            (fields_of, conflicts, seen, take),
            mapping,
            region,
        )
    fieldstate.store(
        session,
        fieldstate.rows(integration.id, object_type, record.id, seen, read_at, seen_at),
    )
    merged.changed = _take(
        session, integration, object_type, record, remote, (take, fields_of), mapping, region
    )
    if push:  # the app keeps a value this CRM does not hold: send it there
        outbox.enqueue(
            session, integration.workspace_id, object_type, [record.id], only=integration.id
        )
    return merged


class _Past(NamedTuple):
    """One value a record's field was written with."""

    field: str
    value: Any
    at: datetime
    source: str


def _still(session: Session, record: RecordBase, version: int) -> bool:
    """Whether the record is still at ``version``; if so it stays there until this
    transaction ends (this takes its row lock; SQLite: the database's write lock), so the
    values decided on cannot change before they are written."""
    model = type(record)
    held = session.execute(
        update(model)
        .where(model.id == record.id, model.version == version)
        .values(updated_at=model.updated_at)  # nothing changes; the lock is the point
        .execution_options(synchronize_session=False)
    )
    return bool(held.rowcount)  # type: ignore[attr-defined]


def _past_values(session: Session, record: RecordBase) -> list[_Past]:
    """Every value the record's fields were written with, in the order they were written
    (a CRM's value is stamped with the CRM's time, so ``at`` alone does not order them)."""
    out: list[_Past] = []
    rows = session.execute(
        select(ChangeLog.field, ChangeLog.new_value, ChangeLog.at, ChangeLog.source)
        .where(ChangeLog.record_id == record.id)
        .order_by(ChangeLog.id)
    )
    for name, value, at, source in rows:
        if name == CREATED and isinstance(value, dict):
            out += [_Past(k, v, at, source) for k, v in value.items()]
        else:
            out.append(_Past(name, value, at, source))
    return out


def _held_before(
    history: list[_Past],
    names: tuple[str, ...],
    wire: tuple[Any, Any, str],
    since: datetime,
    source: str,
) -> datetime | None:
    """When one of ``names`` last took the value the CRM shows (``wire``: value, field
    type, region), counting only values crmsync may have pushed to this CRM: not one
    that came from it (``source``), nor one replaced before the integration existed
    (``since``). Another value is a CRM user's write, even one the app held once."""
    value, kind, region = wire
    times = []
    for name in names:
        writes = [p for p in history if p.field == name]
        for n, past in enumerate(writes):
            if past.source == source or not fieldstate.same(past.value, value, kind, region):
                continue
            replaced = writes[n + 1].at if n + 1 < len(writes) else None
            if replaced is None or replaced > since:
                times.append(past.at)
    return max(times) if times else None


def _take(
    session: Session,
    integration: Integration,
    object_type: str,
    record: RecordBase,
    remote: RemoteRecord,
    decided: tuple[dict[str, datetime], dict[str, tuple[str, ...]]],
    mapping: MappingSet,
    region: str,
) -> bool:
    """Write the CRM's values of ``take`` into the record, stamped with the CRM's times
    (one change per distinct time, so each field keeps its own)."""
    take, fields_of = decided
    if not take:
        return False
    mapped = map_inbound(mapping, object_type, {p: remote.properties[p] for p in take}, region)
    asked = set(mapped.values)
    pending = references.translate_inbound(session, integration.id, object_type, mapped.values)
    references.remember_pending(
        session,
        integration.workspace_id,
        integration.id,
        object_type,
        record.id,
        pending,
        resolved=asked & set(mapped.values),
    )
    changed = False
    for at in sorted(set(take.values())):
        names = {n for p, t in take.items() if t == at for n in fields_of[p]}
        values = {k: v for k, v in mapped.values.items() if k in names}
        if isinstance(values.get("custom_fields"), dict):
            values["custom_fields"] = {**(record.custom_fields or {}), **values["custom_fields"]}
        differing = {
            k: v for k, v in values.items() if json_value(getattr(record, k, None)) != json_value(v)
        }
        if differing:
            service.update_record(
                session,
                integration.workspace_id,
                object_type,
                record.id,
                differing,
                f"crm:{integration.id}",
                written_at=at,
            )
            changed = True
    return changed


def _apply_deletion(
    session: Session,
    integration: Integration,
    object_type: str,
    link: Link | None,
    record: RecordBase | None,
    config: SyncConfig,
    source: str,
) -> Applied:
    if record is None:
        return Applied("unchanged")
    if link is not None and link.record_id != record.id:
        # The link's record was merged away here: the CRM dropping its copy (often our own
        # merge effect) must not delete the survivor.
        session.delete(link)
        return Applied("unchanged", record.id)
    if config.delete_propagation:
        # The Link stays as the tombstone (see the module docstring).
        service.delete_record(session, integration.workspace_id, object_type, record.id, source)
        return Applied("deleted", record.id)
    if link is not None:
        session.delete(link)  # not propagated: the app keeps the record, unlinked
        fieldstate.forget(session, integration.id, object_type, record.id)
    return Applied("unchanged", record.id)


def _remember(
    session: Session,
    integration: Integration,
    object_type: str,
    record_id: uuid.UUID,
    remote: RemoteRecord,
    mapping: MappingSet,
    read_at: datetime,
) -> None:
    """A record created from the CRM: the CRM holds every property it was read with."""
    props = {
        p: remote.properties[p] for p in _properties(mapping, object_type) if p in remote.properties
    }
    times = {p: (remote.field_times or {}).get(p) or remote.modified_at for p in props}
    fieldstate.store(
        session, fieldstate.rows(integration.id, object_type, record_id, props, read_at, times)
    )


def _touch_link(
    session: Session,
    integration: Integration,
    object_type: str,
    record_id: uuid.UUID,
    remote: RemoteRecord,
    link: Link | None,
    now: datetime,
) -> None:
    if link is None:
        link = session.scalar(
            select(Link).where(
                Link.integration_id == integration.id,
                Link.object_type == object_type,
                Link.record_id == record_id,
            )
        )
    if link is None:
        link = Link(
            workspace_id=integration.workspace_id,
            integration_id=integration.id,
            object_type=object_type,
            record_id=record_id,
            remote_id=remote.remote_id,
        )
        session.add(link)
        session.flush()
        # records read before this one that point at it get their reference now
        references.resolve_pending(
            session,
            integration.workspace_id,
            integration.id,
            object_type,
            remote.remote_id,
            record_id,
        )
    link.remote_id = remote.remote_id
    seen = link.remote_modified_at
    if seen is None or (remote.modified_at is not None and remote.modified_at > seen):
        link.remote_modified_at = remote.modified_at  # never back to an older copy's time
    link.last_synced_at = now
    session.flush()
