"""Create, read, change and delete canonical records; every change writes its ChangeLog.

Functions take the caller's session and never commit: the caller's transaction holds the
record, its ChangeLog rows and its outbox jobs (``crmsync.sync.outbox``) together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.orm import Session

from crmsync.dedup import merged
from crmsync.quality.normalize import normalize_email
from crmsync.records import changelog
from crmsync.records.bulk import insert_rows
from crmsync.records.errors import RecordConflict, RecordInvalid, RecordNotFound
from crmsync.records.pagination import Cursor
from crmsync.records.payloads import (
    check_references,
    complete_for_create,
    derive_keys,
    model_for,
    parse_fields,
    singular,
)
from crmsync.store.base import new_id
from crmsync.store.models import Contact, RecordBase, Workspace
from crmsync.sync import outbox

MAX_BATCH = 1000
MAX_LIMIT = 500
SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "contacts": ("first_name", "last_name", "email"),
    "leads": ("first_name", "last_name", "email"),
    "companies": ("name", "domain"),
    "deals": ("name",),
    "activities": ("subject",),
    "notes": ("body",),
    "tickets": ("subject",),
}


@dataclass(frozen=True)
class ItemResult:
    index: int
    status: str  # created | updated | error
    id: uuid.UUID | None = None
    error: str | None = None


def _region(session: Session, workspace_id: uuid.UUID) -> str:
    workspace = session.get(Workspace, workspace_id)
    settings = workspace.settings if workspace is not None else {}
    return str(settings.get("default_region", "US"))


def list_records(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    *,
    limit: int = 100,
    cursor: str | None = None,
    updated_since: datetime | None = None,
    q: str | None = None,
    include_deleted: bool = False,
) -> tuple[list[RecordBase], str | None]:
    """A page ordered by (updated_at, id), and the cursor of the next page if there is one."""
    model = model_for(record_type)
    if not 1 <= limit <= MAX_LIMIT:
        raise RecordInvalid(f"limit must be between 1 and {MAX_LIMIT}")
    stmt = select(model).where(model.workspace_id == workspace_id)
    if not include_deleted:
        stmt = stmt.where(model.deleted_at.is_(None))
    if updated_since is not None:
        stmt = stmt.where(model.updated_at >= updated_since)
    if cursor:
        after = Cursor.decode(cursor)
        stmt = stmt.where(tuple_(model.updated_at, model.id) > (after.updated_at, after.id))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(
                *(getattr(model, f).ilike(pattern, escape="\\") for f in SEARCH_FIELDS[record_type])
            )
        )
    stmt = stmt.order_by(model.updated_at, model.id).limit(limit + 1)
    rows = list(session.scalars(stmt))
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, Cursor(rows[-1].updated_at, rows[-1].id).encode()


def get_record(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    *,
    follow_merges: bool = True,
) -> RecordBase:
    """The live record; a merged-away id gives its survivor (``follow_merges``)."""
    model = model_for(record_type)
    record = session.get(model, record_id)
    if follow_merges and record is not None and record.deleted_at is not None:
        survivor = merged.survivor_of(session, workspace_id, record_type, record_id)
        record = session.get(model, survivor) if survivor is not None else record
    # Another workspace's record answers exactly like a missing one.
    if record is None or record.workspace_id != workspace_id or record.deleted_at is not None:
        raise RecordNotFound(f"no {singular(record_type)} with id {record_id}")
    return record


def create_record(
    session: Session, workspace_id: uuid.UUID, record_type: str, payload: Any, source: str
) -> RecordBase:
    fields = parse_fields(record_type, payload)
    bad = check_references(session, workspace_id, record_type, [fields])
    if bad:
        raise RecordInvalid(bad[0])
    if fields.get("external_ref"):
        _refuse_taken_ref(session, workspace_id, record_type, fields["external_ref"])
    row = complete_for_create(record_type, fields)
    region = _region(session, workspace_id)
    _insert(
        session,
        workspace_id,
        record_type,
        [_new_row(workspace_id, record_type, row, region)],
        source,
    )
    return get_record(session, workspace_id, record_type, row["id"])


def update_record(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    record_id: uuid.UUID,
    payload: Any,
    source: str,
) -> RecordBase:
    record = get_record(session, workspace_id, record_type, record_id)
    fields = parse_fields(record_type, payload)
    bad = check_references(session, workspace_id, record_type, [fields])
    if bad:
        raise RecordInvalid(bad[0])
    if fields.get("external_ref") not in (None, record.external_ref):
        _refuse_taken_ref(session, workspace_id, record_type, fields["external_ref"])
    if _apply(session, record, fields, source, datetime.now(UTC), _region(session, workspace_id)):
        outbox.enqueue(session, workspace_id, record_type, [record.id], source=source)
    session.flush()
    return record


def delete_record(
    session: Session, workspace_id: uuid.UUID, record_type: str, record_id: uuid.UUID, source: str
) -> None:
    # A merged-away id does not delete its survivor: it answers as the deleted record it is.
    record = get_record(session, workspace_id, record_type, record_id, follow_merges=False)
    now = datetime.now(UTC)
    changes = {"deleted_at": (None, now)}
    record.deleted_at = now
    record.updated_at = now
    record.version += 1
    changelog.write(
        session,
        list(changelog.changelog_rows(workspace_id, record_type, record.id, changes, source, now)),
    )
    outbox.enqueue(
        session, workspace_id, record_type, [record.id], operation="delete", source=source
    )


def upsert_records(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    payloads: list[Any],
    source: str,
) -> list[ItemResult]:
    """Create or update many records at once, with one result per payload, in order.

    A payload matches an existing record by ``external_ref`` when it has one, otherwise
    (contacts) by normalised email; a matched record is patched with the fields given.
    Items later in the list see the effect of earlier ones, as if applied one by one.
    """
    model = model_for(record_type)
    if len(payloads) > MAX_BATCH:
        raise RecordInvalid(f"at most {MAX_BATCH} items per batch; got {len(payloads)}")
    now = datetime.now(UTC)
    region = _region(session, workspace_id)
    results: list[ItemResult | None] = [None] * len(payloads)
    parsed: dict[int, dict[str, Any]] = {}
    for i, payload in enumerate(payloads):
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

    by_ref, by_email = _existing(session, workspace_id, model, parsed.values(), region)
    inserts: list[dict[str, Any]] = []
    log: list[dict[str, Any]] = []
    touched: set[uuid.UUID] = set()  # existing records this batch really changed
    for i, fields in parsed.items():
        ref = fields.get("external_ref")
        target = by_ref.get(ref) if ref else None
        if target is None and ref is None and record_type == "contacts":
            target = by_email.get(normalize_email(fields.get("email")) or "")
        if isinstance(target, RecordBase):
            if ref and target.external_ref != ref:  # a merged-away ref: the survivor keeps its own
                fields = {k: v for k, v in fields.items() if k != "external_ref"}
            changed = _apply(session, target, fields, source, now, region, write=False)
            if changed:
                log.extend(changed)
                touched.add(target.id)
            results[i] = ItemResult(i, "updated", id=target.id)
            continue
        if isinstance(target, dict):  # created earlier in this same batch
            target.update(fields)
            target.update(derive_keys(record_type, fields, region))
            results[i] = ItemResult(i, "updated", id=target["id"])
            continue
        try:
            row = complete_for_create(record_type, fields)
        except RecordInvalid as exc:
            results[i] = ItemResult(i, "error", error=exc.message)
            continue
        inserts.append(_new_row(workspace_id, record_type, row, region))
        if ref:
            by_ref[ref] = row
        if row.get("email_key"):
            by_email.setdefault(row["email_key"], row)
        results[i] = ItemResult(i, "created", id=row["id"])
    session.flush()
    changelog.write(session, log)
    _insert(session, workspace_id, record_type, inserts, source)
    outbox.enqueue(session, workspace_id, record_type, list(touched), source=source)
    return [r for r in results if r is not None]


def _new_row(
    workspace_id: uuid.UUID, record_type: str, row: dict[str, Any], region: str
) -> dict[str, Any]:
    now = datetime.now(UTC)
    row.update(derive_keys(record_type, row, region))
    row.update(id=new_id(), workspace_id=workspace_id, created_at=now, updated_at=now, version=1)
    row.setdefault("custom_fields", {})
    return row


def _insert(
    session: Session,
    workspace_id: uuid.UUID,
    record_type: str,
    rows: list[dict[str, Any]],
    source: str,
) -> None:
    """Insert new records in one statement, with a ChangeLog row per field they set."""
    if not rows:
        return
    insert_rows(session, model_for(record_type).__table__, rows)  # type: ignore[arg-type]
    log: list[tuple[Any, ...]] = []
    for row in rows:
        log.extend(changelog.created_rows(workspace_id, record_type, row, source))
    changelog.write_tuples(session, log)
    outbox.enqueue(session, workspace_id, record_type, [r["id"] for r in rows], source=source)


def _existing(
    session: Session,
    workspace_id: uuid.UUID,
    model: type[RecordBase],
    items: Any,
    region: str,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Existing records the batch may match, by external_ref and (contacts) by email key."""
    items = list(items)
    refs = {f["external_ref"] for f in items if f.get("external_ref")}
    by_ref: dict[str, Any] = {}
    if refs:
        stmt = select(model).where(model.workspace_id == workspace_id, model.external_ref.in_(refs))
        by_ref = {str(r.external_ref): r for r in session.scalars(stmt)}
        by_ref.update(_survivors(session, workspace_id, model, by_ref))
    by_email: dict[str, Any] = {}
    if model is Contact:
        emails = {
            k for f in items if not f.get("external_ref") and (k := normalize_email(f.get("email")))
        }
        if emails:
            stmt = (
                select(Contact)
                .where(
                    Contact.workspace_id == workspace_id,
                    Contact.email_key.in_(emails),
                    Contact.deleted_at.is_(None),
                )
                .order_by(Contact.created_at.desc(), Contact.id.desc())
            )
            # Oldest last, so it wins: the earliest contact with an email is the match.
            by_email = {str(c.email_key): c for c in session.scalars(stmt)}
    return by_ref, by_email


def _survivors(
    session: Session, workspace_id: uuid.UUID, model: type[RecordBase], by_ref: dict[str, Any]
) -> dict[str, Any]:
    """An external_ref of a merged-away record upserts its survivor, not the dead record."""
    dead = {r.id: ref for ref, r in by_ref.items() if r.deleted_at is not None}
    found = merged.survivors_of(session, workspace_id, model.record_type, dead)
    if not found:
        return {}
    survivors = {
        s.id: s for s in session.scalars(select(model).where(model.id.in_(found.values())))
    }
    return {dead[m]: survivors[s] for m, s in found.items() if s in survivors}


def _apply(
    session: Session,
    record: RecordBase,
    fields: dict[str, Any],
    source: str,
    now: datetime,
    region: str,
    *,
    write: bool = True,
) -> list[dict[str, Any]]:
    """Patch a loaded record; returns its ChangeLog rows (written unless ``write`` is False)."""
    if record.deleted_at is not None:  # an upsert by external_ref brings a record back
        fields = {**fields, "deleted_at": None}
    before = {k: getattr(record, k) for k in fields}
    changes = changelog.diff(before, fields)
    if not changes:
        return []
    for key, (_old, new) in changes.items():
        setattr(record, key, new)
    for key, value in derive_keys(record.record_type, fields, region).items():
        setattr(record, key, value)
    record.updated_at = now
    record.version += 1
    rows = list(
        changelog.changelog_rows(
            record.workspace_id, record.record_type, record.id, changes, source, now
        )
    )
    if write:
        changelog.write(session, rows)
    return rows


def _refuse_taken_ref(
    session: Session, workspace_id: uuid.UUID, record_type: str, ref: str
) -> None:
    model = model_for(record_type)
    taken = session.scalar(
        select(model.id).where(model.workspace_id == workspace_id, model.external_ref == ref)
    )
    if taken is not None:
        raise RecordConflict(f"external_ref {ref!r} is already in use")
