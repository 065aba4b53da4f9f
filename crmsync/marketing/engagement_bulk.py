"""Scoring every contact of a workspace at once, in the database.

One aggregate computes, per contact, each type's decayed sum (the same terms as
``engagement.State``: weight x channel x direction x 2^(-age / half-life)), the capped
total and the sums as JSON, into a temporary table. Four statements then act on it:
the threshold crossings to announce (a join with the states before), an upsert of the
states (``high`` moves with the crossings), removal of states whose contact has no
activity left, and the contacts' ``engagement_score``. Python touches only the
crossings and, when a CRM pushes contacts, the ids of the scores that moved: a
million activities never become a million Python objects.

SQLite and PostgreSQL differ in a few spellings (scalar least, JSON aggregates,
rounding, age in days); they are chosen here. The temporary table's statement is
compiled with its values inline: PostgreSQL takes no parameters in ``CREATE TABLE AS``,
and every value is the workspace's model (numbers and type names, quoted by the
dialect) or the workspace id.
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Float,
    Numeric,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.orm import Session

from crmsync.marketing.engagement import DAY
from crmsync.marketing.settings import EngagementModel
from crmsync.store.base import UTCDateTime
from crmsync.store.models import Activity

__all__ = ["FRESH", "Crossing", "score_all"]

FRESH = "engagement_fresh"
_JULIAN_EPOCH = 2440587.5

Crossing = tuple[uuid.UUID, str, float, float]  # contact, event type, before, after


def _lookup(column: Any, table: dict[str, float], default: float) -> ColumnElement[Any]:
    if not table:
        return literal(default)
    return case(table, value=column, else_=default)


def _aggregate(
    dialect: str, workspace_id: uuid.UUID, model: EngagementModel, now: datetime
) -> Select[Any]:
    pg = dialect == "postgresql"
    if pg:
        age = (literal(now.timestamp()) - func.extract("epoch", Activity.occurred_at)) / DAY
    else:
        now_julian = now.timestamp() / DAY + _JULIAN_EPOCH
        age = literal(now_julian) - func.julianday(Activity.occurred_at)
    worth = (
        _lookup(Activity.type, model.weights, model.default_weight)
        * _lookup(Activity.data["channel"].as_string(), model.channels, 1.0)
        * _lookup(Activity.direction, model.directions, 1.0)
        * func.exp(case((age < 0, 0.0), else_=age) * (-math.log(2) / model.half_life_days))
    )
    per_type = (
        select(
            Activity.contact_id.label("contact_id"),
            Activity.type.label("type"),
            func.sum(worth).label("s"),
            func.count().label("n"),
        )
        .where(
            Activity.workspace_id == workspace_id,
            Activity.contact_id.is_not(None),
            Activity.deleted_at.is_(None),
        )
        .group_by(Activity.contact_id, Activity.type)
        .subquery()
    )
    least = func.least if pg else func.min
    cap = _lookup(per_type.c.type, model.caps, model.default_cap)
    total = least(100.0, func.sum(least(cap, per_type.c.s)))
    score: ColumnElement[Any]
    if pg:
        score = cast(func.round(cast(total, Numeric), 2), Float)
        sums = func.jsonb_build_object(
            "sums", func.jsonb_object_agg(per_type.c.type, per_type.c.s),
            "counts", func.jsonb_object_agg(per_type.c.type, per_type.c.n),
        )  # fmt: skip
    else:
        score = func.round(total, 2)
        sums = func.json_object(
            "sums", func.json_group_object(per_type.c.type, per_type.c.s),
            "counts", func.json_group_object(per_type.c.type, per_type.c.n),
        )  # fmt: skip
    return select(per_type.c.contact_id, score.label("score"), sums.label("sums")).group_by(
        per_type.c.contact_id
    )


def score_all(
    session: Session,
    workspace_id: uuid.UUID,
    model: EngagementModel,
    now: datetime,
    *,
    want_moved: bool,
) -> tuple[int, list[Crossing], list[uuid.UUID]]:
    """Score the workspace; (scores changed, crossings, contacts whose rounded score
    moved -- only gathered with ``want_moved``)."""
    bind = session.connection()
    dialect = bind.dialect
    aggregate = _aggregate(dialect.name, workspace_id, model, now)
    compiled = str(aggregate.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        # Read the table in its own order: the planner would walk the (workspace,
        # contact) index and fetch every row at random from it, 1.8x slower for a
        # whole workspace (bench/RESULTS.md). SQLAlchemy renders no table hints here.
        assert compiled.count("FROM activities ") == 1
        compiled = compiled.replace("FROM activities ", "FROM activities NOT INDEXED ")
    bind.exec_driver_sql(f"DROP TABLE IF EXISTS {FRESH}")
    bind.exec_driver_sql(f"CREATE TEMPORARY TABLE {FRESH} AS {compiled}")
    bind.exec_driver_sql(f"CREATE INDEX ix_{FRESH} ON {FRESH} (contact_id)")
    try:
        return _apply(session, workspace_id, model, now, want_moved=want_moved)
    finally:
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS {FRESH}")


_BINDS: dict[str, BindParameter[Any]] = {
    "ws": bindparam("ws", type_=Uuid()),
    "now": bindparam("now", type_=UTCDateTime()),
    "hi": bindparam("hi", type_=Float()),
    "cool": bindparam("cool", type_=Float()),
}
# (the statements name the temporary table, FRESH, literally)
_CROSSINGS = """
SELECT f.contact_id, f.score AS after, COALESCE(o.score, 0) AS before,
       CASE WHEN o.high = TRUE THEN 'engagement.cooled' ELSE 'engagement.high' END AS kind
FROM engagement_fresh f LEFT JOIN engagement_states o ON o.contact_id = f.contact_id
WHERE (COALESCE(o.high, FALSE) = FALSE AND f.score >= :hi) OR (o.high = TRUE AND f.score < :cool)
UNION ALL
SELECT o.contact_id, 0.0, o.score, 'engagement.cooled' FROM engagement_states o
WHERE o.workspace_id = :ws AND o.high = TRUE AND :cool > 0
  AND NOT EXISTS (SELECT 1 FROM engagement_fresh f WHERE f.contact_id = o.contact_id)
"""
_CHANGED = """
SELECT (SELECT COUNT(*) FROM engagement_fresh f
        LEFT JOIN engagement_states o ON o.contact_id = f.contact_id
        WHERE o.score IS NULL OR o.score <> f.score)
     + (SELECT COUNT(*) FROM engagement_states o
        WHERE o.workspace_id = :ws AND o.score <> 0
  AND NOT EXISTS (SELECT 1 FROM engagement_fresh f WHERE f.contact_id = o.contact_id))
"""
_MOVED = """
SELECT f.contact_id
FROM engagement_fresh f LEFT JOIN engagement_states o ON o.contact_id = f.contact_id
WHERE ROUND(COALESCE(o.score, 0)) <> ROUND(f.score)
UNION ALL
SELECT o.contact_id FROM engagement_states o
WHERE o.workspace_id = :ws AND ROUND(o.score) <> 0
  AND NOT EXISTS (SELECT 1 FROM engagement_fresh f WHERE f.contact_id = o.contact_id)
"""
_WRITES = (
    """
INSERT INTO engagement_states (contact_id, workspace_id, as_of, sums, score, high)
SELECT f.contact_id, :ws, :now, f.sums, f.score, f.score >= :hi FROM engagement_fresh f WHERE TRUE
ON CONFLICT (contact_id) DO UPDATE SET
  as_of = excluded.as_of, sums = excluded.sums, score = excluded.score,
  high = CASE WHEN engagement_states.high = TRUE THEN excluded.score >= :cool
              ELSE excluded.score >= :hi END
""",
    """
DELETE FROM engagement_states
WHERE workspace_id = :ws
  AND NOT EXISTS (SELECT 1 FROM engagement_fresh f
                  WHERE f.contact_id = engagement_states.contact_id)
""",
    """
UPDATE contacts SET engagement_score = f.score FROM engagement_fresh f
WHERE contacts.id = f.contact_id
  AND (contacts.engagement_score IS NULL OR contacts.engagement_score <> f.score)
""",
    """
UPDATE contacts SET engagement_score = 0
WHERE workspace_id = :ws AND engagement_score IS NOT NULL AND engagement_score <> 0
  AND NOT EXISTS (SELECT 1 FROM engagement_fresh f WHERE f.contact_id = contacts.id)
""",
)


def _text(sql: str, **columns: Any) -> Any:
    wanted: list[BindParameter[Any]] = [b for name, b in _BINDS.items() if f":{name}" in sql]
    statement = text(sql).bindparams(*wanted)
    return statement.columns(**columns) if columns else statement


def _apply(
    session: Session,
    workspace_id: uuid.UUID,
    model: EngagementModel,
    now: datetime,
    *,
    want_moved: bool,
) -> tuple[int, list[Crossing], list[uuid.UUID]]:
    params = {"ws": workspace_id, "now": now, "hi": model.high_threshold}
    params["cool"] = model.cooled_threshold
    crossings: list[Crossing] = [
        (contact_id, kind, float(before), float(after))
        for contact_id, after, before, kind in session.execute(
            _text(_CROSSINGS, contact_id=Uuid(), after=Float(), before=Float(), kind=String()),
            params,
        )
    ]
    changed = int(session.execute(_text(_CHANGED), params).scalar() or 0)
    moved: list[uuid.UUID] = []
    if want_moved:
        moved = list(session.execute(_text(_MOVED, contact_id=Uuid()), params).scalars())
    for sql in _WRITES:
        session.execute(_text(sql), params)
    return changed, crossings, moved
