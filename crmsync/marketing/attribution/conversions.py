"""Conversions, read from the records themselves: leads created, leads converted, deals won.

Nothing is stored twice: a lead's creation time is its ``created_at``; a lead became
CONVERTED (a deal won) when the ChangeLog last set its status (stage) to that value, or
when it was created with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import String, cast, func, select, type_coerce
from sqlalchemy.orm import Session

from crmsync.records.changelog import CREATED
from crmsync.store.models import ChangeLog, Deal, Lead

# Deal stages that mean "won", compared without case, spaces, dashes or underscores.
WON_STAGES: Final = frozenset({"closedwon", "won"})


class Kind(StrEnum):
    LEAD_CREATED = "lead_created"
    LEAD_CONVERTED = "lead_converted"
    DEAL_WON = "deal_won"


@dataclass(frozen=True)
class Conversion:
    kind: Kind
    record_id: uuid.UUID
    #: Whose touches lead to it: the record's contact, else (a lead) the lead itself, as
    #: ``person_key`` reads it.
    person: Hashable | None
    at: datetime
    value: float


#: One conversion as ``conversion_rows`` reads it: record key, person key (as
#: ``Conversion.person``), time (naive UTC), value.
Row = tuple[Hashable, Hashable | None, datetime, float]


def person_key(column: Any) -> Any:
    """A record id as text, with no conversion to ``uuid.UUID``.

    Paths group a million touches by person; the keys only need to be equal for the
    same id, and converting each to a UUID object was most of the read's time (SQLite
    keeps the id as text already; PostgreSQL's driver would make a UUID of each).
    """
    return cast(column, String()).label(f"{column.table.name}_{column.key}_key")


def is_won(stage: str | None) -> bool:
    key = "".join(ch for ch in (stage or "").lower() if ch.isalnum())
    return key in WON_STAGES


def conversions(
    session: Session,
    workspace_id: uuid.UUID,
    kind: Kind,
    start: datetime,
    end: datetime,
    record_ids: Sequence[uuid.UUID] | None = None,
) -> list[Conversion]:
    """The conversions of ``kind`` in [start, end), oldest first (only ``record_ids``)."""
    found = [
        Conversion(kind, as_uuid(record), person, at.replace(tzinfo=UTC), value)
        for record, person, at, value in conversion_rows(
            session, workspace_id, kind, start, end, record_ids
        )
    ]
    found.sort(key=oldest_first)
    return found


def oldest_first(conversion: Conversion) -> tuple[datetime, uuid.UUID]:
    return conversion.at, conversion.record_id


def conversion_rows(
    session: Session,
    workspace_id: uuid.UUID,
    kind: Kind,
    start: datetime,
    end: datetime,
    record_ids: Sequence[uuid.UUID] | None = None,
) -> list[Row]:
    """The conversions of ``kind`` in [start, end) as plain rows, in no order (only
    ``record_ids``): record and person keys as ``person_key`` reads them, times naive UTC.

    A report reads every conversion of the workspace per request; rows of the driver's own
    values cost a fraction of ``Conversion`` objects with UUIDs and aware times.
    """
    sqlite = session.get_bind().dialect.name == "sqlite"
    read = session.connection().execute  # rows without the ORM's per-row work
    first, last = _naive(start), _naive(end)
    rows: list[Row]
    if kind is Kind.LEAD_CREATED:
        stmt = select(
            person_key(Lead.id), person_key(Lead.contact_id), _time(Lead.created_at, sqlite)
        ).where(
            Lead.workspace_id == workspace_id,
            Lead.deleted_at.is_(None),
            Lead.created_at >= start,
            Lead.created_at < end,
        )
        if record_ids is not None:
            stmt = stmt.where(Lead.id.in_(record_ids))
        parse = _parser(sqlite)
        rows = [(lead, contact or lead, parse(at), 0.0) for lead, contact, at in read(stmt)]
    elif kind is Kind.LEAD_CONVERTED:
        leads = (
            Lead.workspace_id == workspace_id,
            Lead.deleted_at.is_(None),
            Lead.status == "CONVERTED",
            *(() if record_ids is None else (Lead.id.in_(record_ids),)),
        )
        lead_stmt = select(person_key(Lead.id), person_key(Lead.contact_id)).where(*leads)
        people = {lead: contact or lead for lead, contact in read(lead_stmt)}
        times = _set_times(session, workspace_id, Lead, leads, "status", _converted, sqlite)
        rows = [
            (lead, person, times[lead], 0.0)
            for lead, person in people.items()
            if lead in times and first <= times[lead] < last
        ]
    else:
        # the won stages among the workspace's few distinct ones, so only won deals are read
        stages = session.scalars(
            select(Deal.stage).where(Deal.workspace_id == workspace_id).distinct()
        )
        deals = (
            Deal.workspace_id == workspace_id,
            Deal.deleted_at.is_(None),
            Deal.stage.in_([stage for stage in stages if is_won(stage)]),
            *(() if record_ids is None else (Deal.id.in_(record_ids),)),
        )
        deal_stmt = select(person_key(Deal.id), person_key(Deal.contact_id), Deal.amount).where(
            *deals
        )
        won = {deal: (contact, float(amount or 0)) for deal, contact, amount in read(deal_stmt)}
        times = _set_times(session, workspace_id, Deal, deals, "stage", is_won, sqlite)
        rows = [
            (deal, contact, times[deal], value)
            for deal, (contact, value) in won.items()
            if deal in times and first <= times[deal] < last
        ]
    return rows


def as_uuid(key: Hashable) -> uuid.UUID:
    """A key ``person_key`` read (the id's text) as a UUID."""
    return key if isinstance(key, uuid.UUID) else uuid.UUID(str(key))


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _time(column: Any, sqlite: bool) -> Any:
    """SQLite's stored text parses far faster with ``fromisoformat`` than through the
    column type (see ``_parser``)."""
    return type_coerce(column, String()) if sqlite else column


def _parser(sqlite: bool) -> Callable[[Any], datetime]:
    """Naive UTC from what ``_time`` read: SQLite's text, PostgreSQL's aware time."""
    return datetime.fromisoformat if sqlite else _naive


def _converted(status: Any) -> bool:
    return status == "CONVERTED"


def _set_times(
    session: Session,
    workspace_id: uuid.UUID,
    model: type[Lead | Deal],
    records: tuple[Any, ...],
    field: str,
    matches: Callable[[Any], bool],
    sqlite: bool,
) -> dict[Hashable, datetime]:
    """When each of the ``records`` (conditions on ``model``) last had ``field`` set to a
    value ``matches`` accepts, by record key; naive UTC."""
    parse = _parser(sqlite)
    read = session.connection().execute
    key = person_key(ChangeLog.record_id)
    mine = (ChangeLog.workspace_id == workspace_id, ChangeLog.record_id == model.id, *records)
    out: dict[Hashable, datetime] = {}
    changed = read(
        select(key, ChangeLog.new_value, _time(func.max(ChangeLog.at), sqlite))
        .where(*mine, ChangeLog.field == field)
        .group_by(ChangeLog.record_id, ChangeLog.new_value)
    )
    for record, value, at in changed:
        if matches(value):
            at = parse(at)
            if record not in out or out[record] < at:
                out[record] = at
    created = read(
        select(key, ChangeLog.new_value, _time(ChangeLog.at, sqlite)).where(
            *mine, ChangeLog.field == CREATED
        )
    )
    for record, values, at in created:
        if record not in out and matches((values or {}).get(field)):
            out[record] = parse(at)
    return out
