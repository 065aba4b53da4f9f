"""Which value of each field a merge keeps, by strategy.

- ``prefer_new``: the newest record's values win; blanks are filled from the next
  newest, and so on. "New" is by creation: the record created last (``created_at``,
  ties by id) is the newest, whatever was edited since.
- ``prefer_existing``: the same with the oldest record first (the one that was there).
- ``merge``: per field, among the records that have a value, the value written last
  wins, by the field's newest ChangeLog time (the record's ``created_at`` when the
  field has no ChangeLog row). Blanks never replace values.

Object fields (``custom_fields``, ``social_profiles``) are combined key by key in the
same order of preference.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from crmsync.records.changelog import last_written
from crmsync.records.payloads import public_columns
from crmsync.store.models import Contact


class Strategy(StrEnum):
    PREFER_NEW = "prefer_new"
    PREFER_EXISTING = "prefer_existing"
    MERGE = "merge"


# Identity, bookkeeping and derived keys are never taken from a merged-away record;
# external_ref is unique per workspace and handled apart.
NOT_MERGED = frozenset({"id", "external_ref", "created_at", "updated_at", "deleted_at", "version"})
MERGED_FIELDS: tuple[str, ...] = tuple(c for c in public_columns(Contact) if c not in NOT_MERGED)
# A field copied from another record brings its derived match key along.
DERIVED = {"email": "email_key", "phone": "phone_key"}


def blank(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def newest_first(records: Sequence[Contact]) -> list[Contact]:
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)


def field_times(
    session: Session, workspace_id: uuid.UUID, records: Sequence[Contact]
) -> dict[tuple[uuid.UUID, str], datetime]:
    """(record id, field) -> when the field was last written, from the ChangeLog."""
    return last_written(session, [r.id for r in records if r.workspace_id == workspace_id])


def preference(
    strategy: Strategy,
    records: Sequence[Contact],
    field: str,
    times: Mapping[tuple[uuid.UUID, str], datetime],
) -> list[Contact]:
    """The records in the order their value of ``field`` is preferred, best first."""
    ordered = newest_first(records)
    if strategy is Strategy.PREFER_EXISTING:
        return ordered[::-1]
    if strategy is Strategy.MERGE:
        return sorted(
            ordered,
            key=lambda r: (times.get((r.id, field), r.created_at), r.created_at),
            reverse=True,
        )
    return ordered


def merged_values(
    strategy: Strategy,
    records: Sequence[Contact],
    times: Mapping[tuple[uuid.UUID, str], datetime],
) -> dict[str, tuple[Any, Contact | None]]:
    """Field -> (value to keep, the record it comes from; None for combined objects)."""
    out: dict[str, tuple[Any, Contact | None]] = {}
    for name in MERGED_FIELDS:
        ranked = preference(strategy, records, name, times)
        values = [(getattr(r, name), r) for r in ranked]
        if isinstance(values[0][0], dict) or any(isinstance(v, dict) for v, _r in values):
            combined: dict[str, Any] = {}
            for value, _r in reversed(values):  # best last, so it wins
                combined.update({k: v for k, v in (value or {}).items() if not blank(v)})
            out[name] = (combined, None)
            continue
        kept = next(((v, r) for v, r in values if not blank(v)), (None, None))
        out[name] = kept
    return out
