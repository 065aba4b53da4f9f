"""Conversions, read from the records themselves: leads created, leads converted, deals won.

Nothing is stored twice: a lead's creation time is its ``created_at``; a lead became
CONVERTED (a deal won) when the ChangeLog last set its status (stage) to that value, or
when it was created with it.
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import String, func, select, type_coerce
from sqlalchemy.orm import Session

from crmsync.records.changelog import CREATED
from crmsync.store.models import ChangeLog, Deal, Lead

# Deal stages that mean "won", compared without case, spaces, dashes or underscores.
WON_STAGES: Final = frozenset({"closedwon", "won"})
_CHUNK: Final = 5_000


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


def person_key(column: Any) -> Any:
    """A record id as the driver returns it, with no conversion to ``uuid.UUID``.

    Paths group a million touches by person; the keys only need to be equal for the
    same id, and converting each to a UUID object was most of the read's time.
    """
    return type_coerce(column, String()).label(f"{column.table.name}_{column.key}_key")


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
    if kind is Kind.LEAD_CREATED:
        stmt = select(
            Lead.id, person_key(Lead.contact_id), person_key(Lead.id), Lead.created_at
        ).where(
            Lead.workspace_id == workspace_id,
            Lead.deleted_at.is_(None),
            Lead.created_at >= start,
            Lead.created_at < end,
        )
        if record_ids is not None:
            stmt = stmt.where(Lead.id.in_(record_ids))
        found = [
            Conversion(kind, lead_id, contact_key or lead_key, at, 0.0)
            for lead_id, contact_key, lead_key, at in session.execute(stmt)
        ]
    elif kind is Kind.LEAD_CONVERTED:
        lead_stmt = select(Lead.id, person_key(Lead.contact_id), person_key(Lead.id)).where(
            Lead.workspace_id == workspace_id,
            Lead.deleted_at.is_(None),
            Lead.status == "CONVERTED",
        )
        if record_ids is not None:
            lead_stmt = lead_stmt.where(Lead.id.in_(record_ids))
        leads = {
            lead_id: contact_id or lead_id for lead_id, contact_id in session.execute(lead_stmt)
        }
        times = _set_times(session, list(leads), "status", lambda v: v == "CONVERTED")
        found = [
            Conversion(kind, lead_id, person, times[lead_id], 0.0)
            for lead_id, person in leads.items()
            if lead_id in times and start <= times[lead_id] < end
        ]
    else:
        deal_stmt = select(Deal.id, person_key(Deal.contact_id), Deal.stage, Deal.amount).where(
            Deal.workspace_id == workspace_id, Deal.deleted_at.is_(None)
        )
        if record_ids is not None:
            deal_stmt = deal_stmt.where(Deal.id.in_(record_ids))
        deals = {
            deal_id: (contact_id, float(amount or 0))
            for deal_id, contact_id, stage, amount in session.execute(deal_stmt)
            if is_won(stage)
        }
        times = _set_times(session, list(deals), "stage", is_won)
        found = [
            Conversion(kind, deal_id, contact_id, times[deal_id], value)
            for deal_id, (contact_id, value) in deals.items()
            if deal_id in times and start <= times[deal_id] < end
        ]
    found.sort(key=lambda c: (c.at, c.record_id))
    return found


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i : i + _CHUNK]


def _set_times(
    session: Session, ids: list[uuid.UUID], field: str, matches: Any
) -> dict[uuid.UUID, datetime]:
    """When each record last had ``field`` set to a value ``matches`` accepts."""
    out: dict[uuid.UUID, datetime] = {}
    for chunk in _chunks(ids):
        changed = session.execute(
            select(ChangeLog.record_id, ChangeLog.new_value, func.max(ChangeLog.at))
            .where(ChangeLog.record_id.in_(chunk), ChangeLog.field == field)
            .group_by(ChangeLog.record_id, ChangeLog.new_value)
        )
        for record_id, value, at in changed:
            if matches(value) and (record_id not in out or out[record_id] < at):
                out[record_id] = at
        created = session.execute(
            select(ChangeLog.record_id, ChangeLog.new_value, ChangeLog.at).where(
                ChangeLog.record_id.in_(chunk), ChangeLog.field == CREATED
            )
        )
        for record_id, values, at in created:
            if record_id not in out and matches((values or {}).get(field)):
                out[record_id] = at
    return out
