"""Keyset positions for APIs whose modified times have whole-second resolution.

Pipedrive's ``updated_since`` and Total Expert's ``internal_updated_at_start`` are
inclusive and count in seconds, so two changes of one record within a second share a
timestamp. A lane therefore remembers, for the newest second it delivered, a digest of
each record it delivered then: a record seen again at that second is new only when its
digest changed. ``page`` holds the provider's page token while a run of records sharing
one second is longer than a page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmsync.connectors.cursor import JsonCursor, load
from crmsync.fingerprint import fingerprint

__all__ = ["ChangeCursor", "Lane", "Row", "digest"]

Row = tuple[str, int, str]
"""(remote id, modified epoch seconds, digest of the record)."""


def digest(record: Mapping[str, Any]) -> str:
    """A short fingerprint of a record's content."""
    return fingerprint(record, 16)


@dataclass(frozen=True, slots=True)
class Lane:
    """Where one stream of changes (records, or deletions) got to."""

    since: int = 0
    seen: Mapping[str, str] = field(default_factory=dict)
    page: str | None = None

    def fresh(self, rows: Sequence[Row]) -> list[Row]:
        """Rows not already delivered with the same content at the boundary second."""
        return [r for r in rows if not (r[1] == self.since and self.seen.get(r[0]) == r[2])]

    def advance(self, rows: Sequence[Row], next_page: str | None) -> Lane:
        """The lane after a page of rows in ascending time order.

        ``next_page`` is the provider's token for the rest of the same query; it is kept
        only while the whole page sits at ``since`` (otherwise the next query starts from
        the newer second and needs no token).
        """
        if not rows:
            return Lane(self.since, self.seen)
        top = max(r[1] for r in rows)
        at_top = {r[0]: r[2] for r in rows if r[1] == top}
        if top != self.since:
            return Lane(top, at_top)
        return Lane(top, {**self.seen, **at_top}, next_page)

    def to_json(self) -> dict[str, Any]:
        """Plain values for ``ChangeCursor.to_json``."""
        return {"since": self.since, "seen": dict(self.seen), "page": self.page}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any] | None, since: int = 0) -> Lane:
        """Inverse of ``to_json``; ``since`` is where a missing lane starts."""
        if not raw:
            return cls(since)
        page = raw.get("page")
        seen = {str(k): str(v) for k, v in (raw.get("seen") or {}).items()}
        return cls(int(raw.get("since", since)), seen, str(page) if page else None)


@dataclass(frozen=True, slots=True)
class ChangeCursor(JsonCursor):
    """The records lane and the deletions lane of one object type."""

    records: Lane
    deletions: Lane

    def to_json(self) -> dict[str, Any]:
        return {"records": self.records.to_json(), "deletions": self.deletions.to_json()}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any], deletions_start: int = 0) -> ChangeCursor:
        return cls(
            Lane.from_json(raw.get("records")),
            Lane.from_json(raw.get("deletions"), deletions_start),
        )

    @classmethod
    def decode(cls, text: str | None, deletions_start: int = 0) -> ChangeCursor:
        """Inverse of ``encode``; ``None`` starts records from the beginning and
        deletions from ``deletions_start``."""
        return cls.from_json(load(text, cls.KIND), deletions_start)
