"""Add outbound events to the caller's transaction; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from crmsync.store.models import OutboundEvent, SyncJob
from crmsync.store.models.imports import ImportJob

CHANGED_FROM_CRM = "record.changed_from_crm"
DEAL_STAGE_CHANGED = "deal.stage_changed"
SYNC_FAILED = "sync.failed"
DEAL_WON = "deal.won"
DEAL_LOST = "deal.lost"
LEAD_CONVERTED = "lead.converted"
IMPORT_FAILED = "import.failed"
# an import's row counts, as import.completed and import.failed carry them
IMPORT_COUNTS = (
    "total_rows",
    "processed",
    "created",
    "updated",
    "failed",
    "duplicates",
    "possible_duplicates",
)
# Deal stages that mean won or lost, compared without case, spaces, dashes or underscores
# (HubSpot's closedwon, crmsync's CLOSED_WON, a plain "Won").
_OUTCOMES = {"closedwon": DEAL_WON, "won": DEAL_WON, "closedlost": DEAL_LOST, "lost": DEAL_LOST}

CREATED = "*"  # crmsync.records.changelog.CREATED (not imported: records imports this)
_TABLE: Table = OutboundEvent.__table__  # type: ignore[assignment]
# ChangeLog row positions (crmsync.records.changelog.COLUMNS)
_WS, _TYPE, _RECORD, _FIELD, _OLD, _NEW, _SOURCE, _AT = range(8)


def emit(
    session: Session,
    workspace_id: uuid.UUID,
    type_: str,
    key: str,
    payload: dict[str, Any],
) -> None:
    """One outbound event, ordered after every earlier one of the same key."""
    _insert(session, [_row(workspace_id, type_, key, payload)])


def from_changelog(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Outbound events for ChangeLog rows about to be written: a record changed by a CRM
    (one event per record, with its changed fields), a deal's stage moving (and
    ``deal.won`` / ``deal.lost`` when it moves to a won or lost stage), and a lead
    becoming CONVERTED (``lead.converted``).

    Called for every change, so the common case (an API or import change of no deal
    stage) costs one pass over the rows and writes nothing.
    """
    from_crm: dict[uuid.UUID, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        source, field = row[_SOURCE], row[_FIELD]
        # A created record's one row (field "*") holds all its initial values.
        created = field == CREATED and isinstance(row[_NEW], dict)
        if source.startswith("crm:"):
            event = from_crm.get(row[_RECORD])
            if event is None:
                event = from_crm[row[_RECORD]] = {
                    "workspace_id": row[_WS],
                    "record_type": row[_TYPE],
                    "record_id": str(row[_RECORD]),
                    "integration_id": source[4:],
                    "created": created,
                    "changes": {},
                }
            if created:
                event["changes"].update(row[_NEW])
            else:
                event["changes"][field] = row[_NEW]
        if row[_TYPE] == "leads":
            out.extend(_lead_converted(row, created))
            continue
        if row[_TYPE] != "deals":
            continue
        if created and row[_NEW].get("stage") is not None:
            moved = (None, row[_NEW]["stage"])
        elif field == "stage" and row[_OLD] != row[_NEW]:
            moved = (row[_OLD], row[_NEW])
        else:
            continue
        payload = {
            "deal_id": str(row[_RECORD]),
            "from": moved[0],
            "to": moved[1],
            "source": source,
            "at": _iso(row[_AT]),
        }
        out.append(_row(row[_WS], DEAL_STAGE_CHANGED, str(row[_RECORD]), payload))
        outcome = _OUTCOMES.get("".join(c for c in str(moved[1]).lower() if c.isalnum()))
        if outcome is not None:
            out.append(_row(row[_WS], outcome, str(row[_RECORD]), payload))
    for record_id, event in from_crm.items():
        workspace_id = event.pop("workspace_id")
        out.append(_row(workspace_id, CHANGED_FROM_CRM, str(record_id), event))
    _insert(session, out)


def _lead_converted(row: tuple[Any, ...], created: bool) -> list[dict[str, Any]]:
    if created:
        became = row[_NEW].get("status") == "CONVERTED"
    else:
        became = row[_FIELD] == "status" and row[_NEW] == "CONVERTED" and row[_OLD] != "CONVERTED"
    if not became:
        return []
    payload = {"lead_id": str(row[_RECORD]), "source": row[_SOURCE], "at": _iso(row[_AT])}
    return [_row(row[_WS], LEAD_CONVERTED, str(row[_RECORD]), payload)]


def sync_failures(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    object_type: str,
    finished: Iterable[dict[str, Any]],
) -> None:
    """``sync.failed`` for jobs that ended ``failed`` or ``dead`` (dicts with ``job_id``,
    ``new_status``, ``error``, ``error_class``), keyed by their record."""
    finished = list(finished)
    if not finished:
        return
    # (a Result has .keys(), so dict() would read it as a mapping)
    records = {
        job_id: record_id
        for job_id, record_id in session.execute(
            select(SyncJob.id, SyncJob.record_id).where(
                SyncJob.id.in_([f["job_id"] for f in finished])
            )
        )
    }
    _insert(
        session,
        [
            _row(
                workspace_id,
                SYNC_FAILED,
                str(records.get(f["job_id"], "")),
                {
                    "integration_id": str(integration_id),
                    "object_type": object_type,
                    "record_id": str(records.get(f["job_id"], "")),
                    "job_id": f["job_id"],
                    "status": f["new_status"],
                    "error_class": f.get("error_class"),
                    "error": f.get("error"),
                },
            )
            for f in finished
        ],
    )


def import_failed(session: Session, job_id: uuid.UUID, error: str | None) -> None:
    """``import.failed`` for an import the caller has just marked failed in this
    transaction: why (``error``) and its counts so far (the rows of its committed
    batches stay imported; a start resumes after them). A dry run imported nothing and,
    as it sends no ``import.completed``, sends nothing either."""
    job = session.get(ImportJob, job_id, populate_existing=True)
    if job is None or (job.options or {}).get("dry_run"):
        return
    payload = {
        "import_id": str(job.id),
        "filename": job.filename,
        "object_type": job.object_type,
        "status": "failed",
        "error": error,
        **{name: getattr(job, name) for name in IMPORT_COUNTS},
        "retry_of": str(job.retry_of) if job.retry_of else None,
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }
    emit(session, job.workspace_id, IMPORT_FAILED, f"import:{job.id}", payload)


def _row(workspace_id: uuid.UUID, type_: str, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "workspace_id": workspace_id,
        "type": type_,
        "key": key,
        "payload": payload,
        "created_at": datetime.now(UTC),
    }


def _insert(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(_TABLE), rows)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
