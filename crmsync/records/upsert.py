"""Batch upsert: up to 1,000 records matched, patched or created in one transaction.

The records a batch matches are read and changed as plain rows, not ORM objects: one
``SELECT`` of the columns the batch touches, the patches applied to dicts, and one
``UPDATE … WHERE id = ?`` executemany per set of changed columns. Loading and flushing
1,000 ORM objects cost about half of an all-updates batch. Every write of the batch is
converted before the first one runs, so on SQLite the write lock is held only while the
statements run, and concurrent batches prepare in parallel. The ChangeLog rows, versions
and outbox jobs are those ``service.update_record`` writes for the same changes, one by
one: each item that changes a record bumps its version and logs each field it changed.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from crmsync.quality.normalize import normalize_email
from crmsync.records import bulk, changelog, merged
from crmsync.records.errors import RecordInvalid
from crmsync.records.payloads import (
    check_references,
    complete_for_create,
    derive_keys,
    model_for,
    parse_fields,
    phone_keys,
)
from crmsync.store.base import new_id
from crmsync.store.models import Contact, RecordBase, Workspace
from crmsync.sync import outbox

MAX_BATCH = 1000
# Columns every matched row is read with, besides the ones the batch sets.
_MATCH_COLUMNS = ("id", "workspace_id", "external_ref", "deleted_at", "version", "updated_at")
_CONTACT_KEYS = ("email_key", "phone_key")


@dataclass(frozen=True)
class ItemResult:
    index: int
    status: str  # created | updated | error
    id: uuid.UUID | None = None
    error: str | None = None


@dataclass
class _Match:
    """An existing record the batch matched: its current values and what the batch changed."""

    row: dict[str, Any]
    changed: set[str] = field(default_factory=set)


def region_of(session: Session, workspace_id: uuid.UUID) -> str:
    """The workspace's default phone region (numbers written without a country code)."""
    workspace = session.get(Workspace, workspace_id)
    settings = workspace.settings if workspace is not None else {}
    return str(settings.get("default_region", "US"))


def new_row(
    workspace_id: uuid.UUID,
    record_type: str,
    row: dict[str, Any],
    region: str,
    phones: Mapping[str, str | None] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A complete table row for a record about to be created from its fields."""
    now = now or datetime.now(UTC)
    row.update(derive_keys(record_type, row, region, phones))
    row.update(id=new_id(), workspace_id=workspace_id, created_at=now, updated_at=now, version=1)
    row.setdefault("custom_fields", {})
    return row


def insert(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    rows: list[dict[str, Any]],
    source: str,
) -> None:
    """Insert new records, with a ChangeLog row per field they set and their sync jobs."""
    if not rows:
        return
    bulk.run(session, _insert_writes(session, workspace_id, record_type, rows, source))
    outbox.enqueue(session, workspace_id, record_type, [r["id"] for r in rows], source=source)


def _insert_writes(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    rows: list[dict[str, Any]],
    source: str,
) -> list[bulk.Write]:
    """The INSERTs of new records and of their ChangeLog rows, converted, not yet run."""
    log = [
        r for row in rows for r in changelog.created_rows(workspace_id, record_type, row, source)
    ]
    table: Table = model_for(record_type).__table__  # type: ignore[assignment]
    return [*bulk.insert_writes(session, table, rows), changelog.write_of(session, log)]


def upsert_records(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    payloads: list[Any],
    source: str,
    *,
    already_parsed: bool = False,
    match_email: bool = True,
) -> list[ItemResult]:
    """Create or update many records at once, with one result per payload, in order.

    A payload matches an existing record by ``external_ref`` when it has one, otherwise
    (contacts) by normalised email; a matched record is patched with the fields given.
    Items later in the list see the effect of earlier ones, as if applied one by one.
    ``already_parsed``: every payload is ``parse_fields``' own answer for it (an import's
    mapping ran it), so it is not parsed again. ``match_email=False``: a contact without
    an ``external_ref`` is always created (an import whose duplicate check has already
    decided which rows are new: two people may share an e-mail address).
    """
    model = model_for(record_type)
    if len(payloads) > MAX_BATCH:
        raise RecordInvalid(f"at most {MAX_BATCH} items per batch; got {len(payloads)}")
    now = datetime.now(UTC)
    region = region_of(session, workspace_id)
    results: list[ItemResult | None] = [None] * len(payloads)
    parsed: dict[int, dict[str, Any]] = {}
    for i, payload in enumerate(payloads):
        if already_parsed:
            parsed[i] = payload
            continue
        try:
            parsed[i] = parse_fields(record_type, payload)
        except RecordInvalid as exc:
            results[i] = ItemResult(i, "error", error=exc.message)
    order = list(parsed)
    for pos, reason in check_references(
        session, workspace_id, record_type, [parsed[i] for i in order]
    ).items():
        results[order[pos]] = ItemResult(order[pos], "error", error=reason)
        del parsed[order[pos]]

    phones = phone_keys(record_type, parsed.values(), region)
    session.flush()  # changes pending in the session are what the matches are read from
    matches: dict[uuid.UUID, _Match] = {}
    by_ref, by_email = _existing(
        session, workspace_id, model, parsed.values(), matches, match_email=match_email
    )
    inserts: list[dict[str, Any]] = []
    log: list[changelog.Row] = []
    for i, fields in parsed.items():
        ref = fields.get("external_ref")
        target = by_ref.get(ref) if ref else None
        if target is None and ref is None and record_type == "contacts":
            target = by_email.get(normalize_email(fields.get("email")) or "")
        if isinstance(target, _Match):
            if ref and target.row["external_ref"] != ref:  # a merged-away ref: keep the survivor's
                fields = {k: v for k, v in fields.items() if k != "external_ref"}
            log.extend(_patch(target, record_type, fields, source, now, region, phones))
            results[i] = ItemResult(i, "updated", id=target.row["id"])
            continue
        if isinstance(target, dict):  # created earlier in this same batch
            target.update(fields)
            target.update(derive_keys(record_type, fields, region, phones))
            results[i] = ItemResult(i, "updated", id=target["id"])
            continue
        try:
            row = complete_for_create(record_type, fields)
        except RecordInvalid as exc:
            results[i] = ItemResult(i, "error", error=exc.message)
            continue
        inserts.append(new_row(workspace_id, record_type, row, region, phones, now))
        if ref:
            by_ref[ref] = row
        if match_email and row.get("email_key"):
            by_email.setdefault(row["email_key"], row)
        results[i] = ItemResult(i, "created", id=row["id"])
    touched = [m for m in matches.values() if m.changed]
    # Reads first, then every write converted, then the writes back to back: on SQLite a
    # batch holds the database's write lock only while its statements run.
    pushing = outbox.pushing_integrations(session, workspace_id, record_type, source=source)
    table: Table = model.__table__  # type: ignore[assignment]
    bulk.run(
        session,
        [
            *_update_writes(session, table, touched),
            changelog.write_of(session, log),
            *_insert_writes(session, workspace_id, record_type, inserts, source),
        ],
    )
    for match in touched:
        loaded = session.identity_map.get(identity_key(model, match.row["id"]))
        if loaded is not None:  # an ORM copy read earlier in this session is now stale
            session.expire(loaded)
    changed = [m.row["id"] for m in touched] + [r["id"] for r in inserts]
    outbox.enqueue(session, workspace_id, record_type, changed, source=source, integrations=pushing)
    return [r for r in results if r is not None]


def _patch(
    match: _Match,
    record_type: str,
    fields: dict[str, Any],
    source: str,
    now: datetime,
    region: str,
    phones: Mapping[str, str | None],
) -> list[changelog.Row]:
    """Apply one item to a matched row; its ChangeLog tuples (none when nothing changed)."""
    row = match.row
    if row["deleted_at"] is not None:  # an upsert by external_ref brings a record back
        fields = {**fields, "deleted_at": None}
    changes = changelog.diff({k: row[k] for k in fields}, fields)
    if not changes:
        return []
    for key, (_old, new) in changes.items():
        row[key] = new
    match.changed.update(changes)
    keys = derive_keys(record_type, fields, region, phones)
    row.update(keys)
    match.changed.update(keys)
    row["updated_at"] = now
    row["version"] += 1
    return changelog.changelog_rows(
        row["workspace_id"], record_type, row["id"], changes, source, now
    )


def _update_writes(session: Session, table: Table, touched: list[_Match]) -> list[bulk.Write]:
    """One ``UPDATE … WHERE id = ?`` per set of changed columns, for the matched rows."""
    by_columns: dict[tuple[str, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for match in touched:
        columns = (*sorted(match.changed), "updated_at", "version")
        by_columns[columns].append((*(match.row[c] for c in columns), match.row["id"]))
    return [bulk.update_write(session, table, c, rows) for c, rows in by_columns.items()]


def _columns(model: type[RecordBase], items: list[dict[str, Any]]) -> list[Any]:
    """The columns matched rows are read with: the keys, and every field the batch sets."""
    names = dict.fromkeys(_MATCH_COLUMNS)
    if model is Contact:
        names.update(dict.fromkeys(_CONTACT_KEYS))
    for fields in items:
        names.update(dict.fromkeys(fields))
    table: Table = model.__table__  # type: ignore[assignment]
    return [table.c[name] for name in names]


def _existing(
    session: Session,
    workspace_id: uuid.UUID,
    model: type[RecordBase],
    items: Iterable[dict[str, Any]],
    matches: dict[uuid.UUID, _Match],
    *,
    match_email: bool = True,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Existing records the batch may match, by external_ref and (contacts) by email key.

    Each record is one ``_Match`` in ``matches``, however many ways it is matched.
    """
    items = list(items)
    columns = _columns(model, items)

    def read(*where: Any) -> list[_Match]:
        stmt = select(*columns).where(model.workspace_id == workspace_id, *where)
        if model is Contact:
            stmt = stmt.order_by(Contact.created_at.desc(), Contact.id.desc())
        found = []
        for values in session.connection().execute(stmt).mappings():
            found.append(matches.setdefault(values["id"], _Match(dict(values))))
        return found

    refs = {f["external_ref"] for f in items if f.get("external_ref")}
    by_ref: dict[str, Any] = {}
    if refs:
        by_ref = {str(m.row["external_ref"]): m for m in read(model.external_ref.in_(refs))}
        dead = {m.row["id"]: ref for ref, m in by_ref.items() if m.row["deleted_at"] is not None}
        # An external_ref of a merged-away record upserts its survivor, not the dead record.
        found = merged.survivors_of(session, workspace_id, model.record_type, dead)
        if found:
            survivors = {m.row["id"]: m for m in read(model.id.in_(found.values()))}
            by_ref.update({dead[d]: survivors[s] for d, s in found.items() if s in survivors})
    by_email: dict[str, Any] = {}
    if model is Contact and match_email:
        emails = {
            k for f in items if not f.get("external_ref") and (k := normalize_email(f.get("email")))
        }
        if emails:
            # Newest first, so the oldest wins: the earliest contact with an email is the match.
            live = read(Contact.email_key.in_(emails), Contact.deleted_at.is_(None))
            by_email = {str(m.row["email_key"]): m for m in live}
    return by_ref, by_email
