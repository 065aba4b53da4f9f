"""Apply a record read from a CRM (by webhook or polling) to the canonical store.

The remote record is matched by Link, else (contacts) by normalised email, mapped back
through the integration's mapping, and merged under its conflict policy:

- ``crm_wins``: the CRM's values replace the app's;
- ``app_wins``: the CRM only fills fields the app has left empty;
- ``last_write_wins``: field by field; a field the app has not changed since the last
  sync takes the CRM's value, and one changed on both sides goes to the later change:
  the CRM record's modified time against the time of the field's last ChangeLog entry;
- ``manual``: a field the app changed since the last sync and the CRM now disagrees on
  becomes an open Conflict; the other fields are taken from the CRM.

Changes are written with source ``crm:<integration id>``, so they are never pushed back
to the same integration (and are pushed to the others).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import RemoteRecord
from crmsync.integrations.config import ConflictPolicy, SyncConfig
from crmsync.mapping.engine import map_inbound
from crmsync.mapping.model import MappingSet
from crmsync.quality.normalize import normalize_email
from crmsync.records import service
from crmsync.records.changelog import json_value, last_written
from crmsync.records.errors import RecordError
from crmsync.store.models import Conflict, Contact, Integration, Link, RecordBase


@dataclass(frozen=True)
class Applied:
    """What happened to one remote record."""

    outcome: str  # created | updated | unchanged | deleted | conflict | error
    record_id: uuid.UUID | None = None
    conflicts: int = 0
    error: str | None = None


def apply_remote(
    session: Session,
    integration: Integration,
    object_type: str,
    remote: RemoteRecord,
    mapping: MappingSet,
    now: datetime,
    region: str = "US",
) -> Applied:
    config = SyncConfig.model_validate(integration.config or {})
    source = f"crm:{integration.id}"
    link = _link(session, integration.id, object_type, remote.remote_id)
    record = _linked_record(session, integration, object_type, link)
    if remote.archived:
        return _apply_deletion(session, integration, object_type, link, record, config, source)
    mapped = map_inbound(mapping, object_type, dict(remote.properties), region)
    values = mapped.values
    if record is None:
        record = _match(session, integration.workspace_id, object_type, values)
    try:
        if record is None:
            created = service.create_record(
                session, integration.workspace_id, object_type, values, source
            )
            _touch_link(session, integration, object_type, created.id, remote, link, now)
            return Applied("created", created.id)
        changes, conflicts = _merge(
            session,
            integration,
            object_type,
            record,
            values,
            remote,
            link,
            config.conflict_policy,
            now,
        )
        if changes:
            service.update_record(
                session, integration.workspace_id, object_type, record.id, changes, source
            )
    except RecordError as exc:
        return Applied("error", record.id if record else None, error=exc.message)
    _touch_link(session, integration, object_type, record.id, remote, link, now)
    if conflicts:
        return Applied("conflict", record.id, conflicts=conflicts)
    return Applied("updated" if changes else "unchanged", record.id)


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


def _field_times(session: Session, record: RecordBase) -> dict[str, datetime]:
    return {field: at for (_, field), at in last_written(session, [record.id]).items()}


def _merge(
    session: Session,
    integration: Integration,
    object_type: str,
    record: RecordBase,
    values: dict[str, Any],
    remote: RemoteRecord,
    link: Link | None,
    policy: ConflictPolicy,
    now: datetime,
) -> tuple[dict[str, Any], int]:
    """The fields to change, and how many conflicts were opened instead."""
    incoming = dict(values)
    if isinstance(incoming.get("custom_fields"), dict):
        incoming["custom_fields"] = {**(record.custom_fields or {}), **incoming["custom_fields"]}
    differing = {
        k: v for k, v in incoming.items() if json_value(getattr(record, k, None)) != json_value(v)
    }
    if not differing or policy is ConflictPolicy.CRM_WINS:
        return differing, 0
    if policy is ConflictPolicy.APP_WINS:
        return {k: v for k, v in differing.items() if getattr(record, k, None) in (None, "", {})}, 0
    times = _field_times(session, record)
    last_sync = link.last_synced_at if link else None

    def changed_here(field: str) -> bool:
        local_at = times.get(field)
        return local_at is not None and (last_sync is None or local_at > last_sync)

    if policy is ConflictPolicy.LAST_WRITE_WINS:
        # Only a field changed on both sides since the last sync is a race for the later
        # write. A field the app has not touched since then takes the CRM's value: the
        # CRM's clock and precision (Salesforce stamps whole seconds) must not make a
        # fresh CRM edit look older than the app's last change, already synced.
        remote_at = remote.modified_at or now
        seen_at = link.remote_modified_at if link else None
        if seen_at is not None and remote_at < seen_at:
            return {}, 0  # an older copy than the one last seen (a late or replayed read)
        return {
            k: v for k, v in differing.items() if not changed_here(k) or times[k] < remote_at
        }, 0
    # MANUAL: a field the app changed since the last sync is a conflict, and stays one
    # (whatever the CRM sends meanwhile) until a person resolves it.
    still_open = set(
        session.scalars(
            select(Conflict.field).where(
                Conflict.integration_id == integration.id,
                Conflict.record_id == record.id,
                Conflict.status == "open",
            )
        )
    )
    take: dict[str, Any] = {}
    conflicts = 0
    for field, value in differing.items():
        if field in still_open or changed_here(field):
            conflicts += _open_conflict(
                session, integration, record, field, value, times.get(field), remote.modified_at
            )
        else:
            take[field] = value
    return take, conflicts


def _open_conflict(
    session: Session,
    integration: Integration,
    record: RecordBase,
    field: str,
    remote_value: Any,
    local_at: datetime | None,
    remote_at: datetime | None,
) -> int:
    existing = session.scalar(
        select(Conflict).where(
            Conflict.integration_id == integration.id,
            Conflict.record_id == record.id,
            Conflict.field == field,
            Conflict.status == "open",
        )
    )
    if existing is not None:  # the CRM changed it again: keep one conflict, newest value
        existing.remote_value = json_value(remote_value)
        existing.remote_at = remote_at
        return 0
    session.add(
        Conflict(
            workspace_id=integration.workspace_id,
            integration_id=integration.id,
            record_type=record.record_type,
            record_id=record.id,
            field=field,
            local_value=json_value(getattr(record, field, None)),
            local_at=local_at,
            remote_value=json_value(remote_value),
            remote_at=remote_at,
        )
    )
    return 1


def _apply_deletion(
    session: Session,
    integration: Integration,
    object_type: str,
    link: Link | None,
    record: RecordBase | None,
    config: SyncConfig,
    source: str,
) -> Applied:
    if link is not None:
        session.delete(link)
    if record is None:
        return Applied("unchanged")
    if link is not None and link.record_id != record.id:
        # The link's record was merged away here: the CRM dropping its copy (often our own
        # merge effect) must not delete the survivor.
        return Applied("unchanged", record.id)
    if config.delete_propagation:
        service.delete_record(session, integration.workspace_id, object_type, record.id, source)
        return Applied("deleted", record.id)
    return Applied("unchanged", record.id)


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
    link.remote_id = remote.remote_id
    seen = link.remote_modified_at
    if seen is None or (remote.modified_at is not None and remote.modified_at > seen):
        link.remote_modified_at = remote.modified_at  # never back to an older copy's time
    link.last_synced_at = now
    session.flush()
