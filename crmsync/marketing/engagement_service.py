"""Engagement scores in the store: one contact after a new interaction (incremental),
every contact of a workspace at once (bulk), and the explanation of one score.

The score lands in ``Contact.engagement_score`` (what record answers carry and the
mapping can push to a CRM field) and its parts in ``EngagementState``. A score that
rises to the model's ``high_threshold`` emits ``engagement.high``; one that falls back
below ``cooled_threshold`` emits ``engagement.cooled`` (both through the event router,
so other features can follow up). Callers commit.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Table,
    and_,
    bindparam,
    select,
    update,
)
from sqlalchemy.orm import Session

from crmsync.events.service import record_event
from crmsync.marketing import settings
from crmsync.marketing.engagement import (
    Contribution,
    State,
    contributions,
    decay,
    points,
    score,
)
from crmsync.marketing.engagement_bulk import score_all
from crmsync.marketing.settings import EngagementModel
from crmsync.store.models import Activity, Contact, EngagementState
from crmsync.sync import outbox
from crmsync.sync.outbox import Priority

__all__ = ["Explanation", "apply_activity", "ensure_state", "explain", "recompute"]

_JULIAN_EPOCH = 2440587.5
_CONTACTS = cast(Table, Contact.__table__)
# Core, not ORM: an executemany of it is one statement for any number of contacts
_CONTACT_UPDATE = (
    update(_CONTACTS)
    .where(_CONTACTS.c.id == bindparam("cid"))
    .values(engagement_score=bindparam("score"))
)


def apply_activity(
    session: Session,
    workspace_id: uuid.UUID,
    contact_id: uuid.UUID,
    activity_type: str,
    occurred_at: datetime,
    *,
    channel: str | None = None,
    direction: str | None = None,
    model: EngagementModel | None = None,
    now: datetime | None = None,
) -> float:
    """Add one interaction to the contact's score; returns the new score."""
    model = model or settings.load(session, workspace_id).engagement
    now = now or datetime.now(UTC)
    row = session.get(EngagementState, contact_id)
    state = State(now) if row is None else State.from_json(row.as_of, row.sums).at(model, now)
    state = state.add(
        model, activity_type, occurred_at, points(model, activity_type, channel, direction)
    )
    new_score = score(model, state)
    before = float(row.score or 0.0) if row is not None else 0.0
    if row is None:
        row = EngagementState(contact_id=contact_id, workspace_id=workspace_id, high=False)
        session.add(row)
    row.as_of, row.sums, row.score = state.as_of, state.to_json(), new_score
    session.flush()  # a get() of this contact later in the transaction finds it
    session.execute(_CONTACT_UPDATE, [{"cid": contact_id, "score": new_score}])
    _crossed(session, workspace_id, row, before, new_score, model)
    if round(before) != round(new_score):
        outbox.enqueue(session, workspace_id, "contacts", [contact_id], source="engagement")
    return new_score


def ensure_state(
    session: Session, workspace_id: uuid.UUID, contact_id: uuid.UUID, now: datetime
) -> EngagementState:
    """The contact's state, made empty (score 0) when it has none."""
    row = session.get(EngagementState, contact_id)
    if row is None:
        row = EngagementState(
            contact_id=contact_id,
            workspace_id=workspace_id,
            as_of=now,
            sums=State(now).to_json(),
            score=0.0,
            high=False,
        )
        session.add(row)
        session.flush()
    return row


def _crossed(
    session: Session,
    workspace_id: uuid.UUID,
    row: EngagementState,
    before: float,
    after: float,
    model: EngagementModel,
) -> None:
    kind = None
    if not row.high and after >= model.high_threshold:
        row.high, kind = True, "engagement.high"
    elif row.high and after < model.cooled_threshold:
        row.high, kind = False, "engagement.cooled"
    if kind is not None:
        data = {"contact_id": str(row.contact_id), "score": after, "previous_score": before}
        record_event(session, workspace_id, {"type": kind, "data": data}, None)


# --- bulk ---------------------------------------------------------------------------


def recompute(
    session: Session,
    workspace_id: uuid.UUID,
    *,
    now: datetime | None = None,
    model: EngagementModel | None = None,
) -> int:
    """Score every contact of the workspace from all its activities (in the database,
    ``engagement_bulk``); returns how many contacts' scores changed."""
    model = model or settings.load(session, workspace_id).engagement
    now = now or datetime.now(UTC)
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        _ensure_exp(session)
    pushing = outbox.pushing_integrations(session, workspace_id, "contacts", source="engagement")
    changed, crossings, moved = score_all(
        session, workspace_id, model, now, want_moved=bool(pushing)
    )
    session.expire_all()  # states and contacts changed behind the ORM's back
    if moved:
        outbox.enqueue(
            session, workspace_id, "contacts", moved, source="engagement",
            priority=Priority.BACKFILL, integrations=pushing,
        )  # fmt: skip
    for contact_id, kind, before, after in crossings:
        data = {"contact_id": str(contact_id), "score": after, "previous_score": before}
        record_event(session, workspace_id, {"type": kind, "data": data}, None)
    return changed


def _ensure_exp(session: Session) -> None:
    """SQLite builds without the math functions get ``exp`` from Python."""
    raw = session.connection().connection.driver_connection
    try:
        raw.execute("SELECT exp(0)")  # type: ignore[union-attr]
    except Exception:
        raw.create_function("exp", 1, math.exp, deterministic=True)  # type: ignore[union-attr]


# --- explanation --------------------------------------------------------------------


@dataclass(frozen=True)
class Explanation:
    contact_id: uuid.UUID
    score: float
    as_of: datetime
    high: bool
    model: EngagementModel
    contributions: list[Contribution]
    recent: list[dict[str, Any]]


def explain(
    session: Session, workspace_id: uuid.UUID, contact_id: uuid.UUID, *, now: datetime | None = None
) -> Explanation:
    """The contact's score now, each type's share, and its most telling recent interactions."""
    model = settings.load(session, workspace_id).engagement
    now = now or datetime.now(UTC)
    row = session.get(EngagementState, contact_id)
    state = State(now) if row is None else State.from_json(row.as_of, row.sums).at(model, now)
    recent = [
        {
            "activity_id": a.id,
            "type": a.type,
            "occurred_at": a.occurred_at,
            "points": round(
                points(model, a.type, (a.data or {}).get("channel"), a.direction)
                * decay(model, (now - a.occurred_at).total_seconds()),
                3,
            ),
        }
        for a in _latest(session, workspace_id, contact_id)
    ]
    recent.sort(key=lambda r: -float(r["points"]))  # type: ignore[arg-type]
    return Explanation(
        contact_id,
        score(model, state),
        state.as_of,
        bool(row.high) if row else False,
        model,
        contributions(model, state),
        recent[:5],
    )


def _latest(session: Session, workspace_id: uuid.UUID, contact_id: uuid.UUID) -> Iterable[Activity]:
    return session.scalars(
        select(Activity)
        .where(
            and_(
                Activity.workspace_id == workspace_id,
                Activity.contact_id == contact_id,
                Activity.deleted_at.is_(None),
            )
        )
        .order_by(Activity.occurred_at.desc())
        .limit(20)
    )
