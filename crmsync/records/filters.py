"""Filters of a record list: by relation (``contact_id``) and by state (a deal's ``stage``
and ``pipeline``, a lead's ``status``).

Each type takes only its own filters. A query parameter a list does not know is refused
(422 naming it) instead of ignored: a misspelt filter would otherwise list everything.
Every filter has an index that leads with (workspace, filter column) and goes on in the
list's own order (``updated_at``, ``id``), so a filtered page reads only its rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Select

from crmsync.records.errors import RecordInvalid
from crmsync.records.schemas import LeadStatus, PropertyStatus


@dataclass(frozen=True)
class Filter:
    """One query parameter a list takes, matched for equality with the column of its name."""

    name: str
    description: str
    max_length: int = 0  # text: the column's length
    choices: type[StrEnum] | None = None
    is_id: bool = False

    def parse(self, raw: str) -> Any:
        if self.is_id:
            try:
                return uuid.UUID(raw)
            except ValueError:
                raise _refused(self.name, "must be a UUID (a record's id)") from None
        if not raw.strip():
            raise _refused(self.name, "must not be empty")
        if self.choices is not None:
            allowed = [c.value for c in self.choices]
            if raw not in allowed:
                raise _refused(self.name, f"must be one of {', '.join(allowed)}")
        elif len(raw) > self.max_length:
            raise _refused(self.name, f"must be at most {self.max_length} characters")
        return raw


CONTACT = Filter("contact_id", "Only the records about this contact (its id).", is_id=True)
FILTERS: dict[str, tuple[Filter, ...]] = {
    "activities": (CONTACT,),
    "notes": (CONTACT,),
    "tickets": (CONTACT,),
    "deals": (
        CONTACT,
        Filter("stage", "Only the deals in this stage (exact, as stored).", max_length=100),
        Filter("pipeline", "Only the deals of this pipeline (exact, as stored).", max_length=100),
    ),
    "leads": (
        CONTACT,
        Filter("status", "Only the leads in this status.", choices=LeadStatus),
        Filter("property_id", "Only the leads about this property (its id).", is_id=True),
    ),
    "properties": (
        Filter("status", "Only the properties in this status.", choices=PropertyStatus),
        Filter("city", "Only the properties in this city (exact, as stored).", max_length=100),
    ),
}


def _refused(name: str, message: str) -> RecordInvalid:
    return RecordInvalid(f"{name}: {message}", [{"field": name, "message": message}])


def filters_of(record_type: str) -> tuple[Filter, ...]:
    return FILTERS.get(record_type, ())


def parse(
    record_type: str, params: Sequence[tuple[str, str]], known: frozenset[str]
) -> dict[str, Any]:
    """The filters among ``params`` (a query string's pairs), checked; ``known`` are the
    list's other parameters. Refuses an unknown parameter and a repeated filter."""
    own = {f.name: f for f in filters_of(record_type)}
    found: dict[str, Any] = {}
    for name, raw in params:
        if name in known:
            continue
        spec = own.get(name)
        if spec is None:
            takes = sorted(known | set(own))
            raise _refused(name, f"is not a parameter of this list; it takes {', '.join(takes)}")
        if name in found:
            raise _refused(name, "is given twice; give it once")
        found[name] = spec.parse(raw)
    return found


def apply(stmt: Select[Any], model: Any, filters: Mapping[str, Any]) -> Select[Any]:
    """``stmt`` narrowed by every filter (each an equality on its column)."""
    for name, value in filters.items():
        stmt = stmt.where(getattr(model, name) == value)
    return stmt
