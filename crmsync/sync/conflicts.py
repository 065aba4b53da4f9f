"""Conflicts the ``manual`` policy opened, and how a person settles them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.mapping.engine import map_inbound
from crmsync.mapping.model import MappingSet
from crmsync.records import service
from crmsync.records.changelog import json_value
from crmsync.records.errors import RecordInvalid, RecordNotFound
from crmsync.store.models import Conflict, ConflictStatus, Integration, RecordBase
from crmsync.sync import fieldstate, outbox


class Resolution(StrEnum):
    LOCAL = "local"  # keep the app's value; it is pushed to the CRM
    REMOTE = "remote"  # take the CRM's value
    CUSTOM = "custom"  # a new value, pushed everywhere
    # Not a choice: the CRM came round to the app's value (or the two sides reached the
    # same one), so the conflict closed by itself at a read.
    AGREED = "agreed"


CHOICES = (Resolution.LOCAL, Resolution.REMOTE, Resolution.CUSTOM)  # what a person picks


def conflicts_of_read(
    session: Session,
    integration: Integration,
    record: RecordBase,
    remote: RemoteRecord,
    decided: tuple[dict[str, tuple[str, ...]], dict[str, Any], dict[str, Any], dict[str, datetime]],
    mapping: MappingSet,
    region: str,
) -> int:
    """Open a Conflict per field changed on both sides (or refresh the open one with the
    CRM's newest value); close open ones the two sides now agree on. Returns how many
    were opened. A field with an open conflict is never taken from the CRM meanwhile."""
    open_rows = {
        c.field: c
        for c in session.scalars(
            select(Conflict).where(
                Conflict.integration_id == integration.id,
                Conflict.record_id == record.id,
                Conflict.status == ConflictStatus.OPEN,
            )
        )
    }
    fields_of, conflicts, seen, take = decided
    opened = 0
    for prop in list(seen):
        for name in fields_of[prop]:
            row = open_rows.get(name)
            if prop in conflicts:
                value = map_inbound(mapping, record.record_type, {prop: conflicts[prop]}, region)
                remote_value = json_value(value.values.get(name))
                if row is not None:
                    row.remote_value, row.remote_at = remote_value, remote.modified_at
                    continue
                opened += 1
                open_rows[name] = Conflict(
                    workspace_id=integration.workspace_id,
                    integration_id=integration.id,
                    record_type=record.record_type,
                    record_id=record.id,
                    field=name,
                    local_value=json_value(getattr(record, name, None)),
                    local_at=None,
                    remote_value=remote_value,
                    remote_at=remote.modified_at,
                )
                session.add(open_rows[name])
            elif row is not None and _agrees(seen[prop], record, name, mapping, prop, region):
                # the two sides hold the same value again: nothing is left to decide
                row.status, row.resolution = ConflictStatus.RESOLVED, Resolution.AGREED
            elif row is not None:
                take.pop(prop, None)  # still open: the person decides, not a later CRM edit
    return opened


def _agrees(
    incoming: Any, record: RecordBase, name: str, mapping: MappingSet, prop: str, region: str
) -> bool:
    value = map_inbound(mapping, record.record_type, {prop: incoming}, region).values.get(name)
    return fieldstate.same(value, getattr(record, name, None))


def list_conflicts(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    status: ConflictStatus | None = ConflictStatus.OPEN,
    limit: int = 100,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> list[Conflict]:
    stmt = select(Conflict).where(Conflict.workspace_id == workspace_id)
    if status:
        stmt = stmt.where(Conflict.status == status)
    if after:
        stmt = stmt.where(tuple_(Conflict.created_at, Conflict.id) > after)
    return list(session.scalars(stmt.order_by(Conflict.created_at, Conflict.id).limit(limit)))


def resolve(
    session: Session,
    workspace_id: uuid.UUID,
    conflict_id: uuid.UUID,
    resolution: Resolution,
    value: Any = None,
) -> Conflict:
    conflict = session.get(Conflict, conflict_id)
    if conflict is None or conflict.workspace_id != workspace_id:
        raise RecordNotFound(f"no conflict with id {conflict_id}")
    if conflict.status != ConflictStatus.OPEN:
        raise RecordInvalid(f"conflict {conflict_id} is already resolved")
    if resolution not in CHOICES:
        raise RecordInvalid(f"'{resolution}' is not a choice: pick local, remote or custom")
    try:
        service.get_record(session, workspace_id, conflict.record_type, conflict.record_id)
    except RecordNotFound:
        # Deleted since: there is nothing left to set, but the conflict is settled.
        return _close(conflict, resolution)
    if resolution is Resolution.REMOTE:
        # The CRM already has this value: record it as coming from there (no echo).
        changes, source = {conflict.field: conflict.remote_value}, f"crm:{conflict.integration_id}"
    elif resolution is Resolution.CUSTOM:
        changes, source = {conflict.field: value}, "api"
    else:
        changes, source = {}, "api"
    if changes:
        service.update_record(
            session, workspace_id, conflict.record_type, conflict.record_id, changes, source
        )
    else:  # keep local: push the record so the CRM takes the app's value
        outbox.enqueue(
            session,
            workspace_id,
            conflict.record_type,
            [conflict.record_id],
            only=conflict.integration_id,
        )
    return _close(conflict, resolution)


def _close(conflict: Conflict, resolution: Resolution) -> Conflict:
    # The CRM's value the conflict held is what that CRM is known to hold (inbound
    # stored it when it opened the conflict), so once closed the next read of the
    # same value is no change, and the app's value, if it differs, is pushed.
    conflict.status = ConflictStatus.RESOLVED
    conflict.resolution = resolution.value
    conflict.resolved_at = datetime.now(UTC)
    return conflict
