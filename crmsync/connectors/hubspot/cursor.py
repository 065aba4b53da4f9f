"""Where incremental reading of one HubSpot object type got to, and how it moves on.

HubSpot's search index is eventually consistent and its servers' clocks are not one
clock, so a record can become searchable after records stamped later than it were read.
Each poll therefore re-reads a lag window before the watermark (the newest modified time
delivered), and the cursor remembers the modified time of every record it delivered
inside that window: a re-read record comes back only when it was modified again.

Search pages by offset and stops at 10,000 results, and an offset shifts when a record
in front of it changes. So within a poll the cursor is a keyset on the modified time:
each page asks for ``modified >= floor`` in ascending order, and a full page moves the
floor to its newest time. Offsets are used only inside a run of records sharing one
millisecond that fills a page, and a run longer than the cap moves the floor on by one
millisecond. A page that is not full ends the poll, and the next poll starts a new
query at offset 0: an offset carried into a later query would skip whatever records
moved out of the run in between (a record of the run that was edited meanwhile).
Deletions (archived records) are tracked by their own high-water mark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crmsync.connectors.cursor import JsonCursor

__all__ = ["DEFAULT_LAG_MS", "SEARCH_CAP", "ChangeCursor"]

SEARCH_CAP = 10_000
# HubSpot documents only that new and changed records take "a few moments" to appear.
DEFAULT_LAG_MS = 10_000


@dataclass(frozen=True, slots=True)
class ChangeCursor(JsonCursor):
    """Watermark ``since`` (epoch ms), records delivered inside the lag window before it
    (id -> modified ms), and the query a poll is paging through (``floor``, ``after``)."""

    since: int = 0
    seen: Mapping[str, int] = field(default_factory=dict)
    floor: int | None = None  # None: no query in progress; the next starts a new one
    after: int = 0
    deleted_since: int = 0

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {
            "since": self.since,
            "seen": dict(self.seen),
            "after": self.after,
            "deleted_since": self.deleted_since,
        }
        if self.floor is not None:
            raw["floor"] = self.floor
        return raw

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ChangeCursor:
        since = int(raw.get("since", 0))
        seen = raw.get("seen") or {}
        if isinstance(seen, list):
            # an older cursor kept only the ids at `since`, and an offset that may belong
            # to a finished query: keep the ids, start a new query
            ids = {str(i): since for i in seen}
            return cls(since, ids, deleted_since=int(raw.get("deleted_since", 0)))
        floor = raw.get("floor")
        return cls(
            since=since,
            seen={str(k): int(v) for k, v in seen.items()},
            floor=None if floor is None else int(floor),
            after=int(raw.get("after", 0)) if floor is not None else 0,
            deleted_since=int(raw.get("deleted_since", 0)),
        )

    def query_since(self, lag_ms: int) -> int:
        """The lower bound of the next page's query (the offset is ``after``)."""
        if self.floor is not None:
            return self.floor
        return max(0, self.since - lag_ms) if self.since else 0

    def fresh(self, rows: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """Rows of a page (id, modified ms) not already delivered at that modified time."""
        seen = self.seen
        return [(i, ms) for i, ms in rows if seen.get(i) != ms]

    def advance(self, rows: Sequence[tuple[str, int]], page_size: int, lag_ms: int) -> ChangeCursor:
        """The cursor after a page of (id, modified ms) rows in ascending modified order,
        read from ``query_since(lag_ms)`` at offset ``after``."""
        bound = self.query_since(lag_ms)
        seen = dict(self.seen)
        seen.update(rows)
        since = max([self.since, *(ms for _, ms in rows)])
        floor: int | None
        if len(rows) < page_size:
            floor, after = None, 0  # the query is read to its end: this poll is done
        else:
            top = max(ms for _, ms in rows)
            if top > bound:
                floor, after = top, 0  # keyset: the rows at `top` read so far are in seen
            else:  # the whole page shares one millisecond: page through it by offset
                floor, after = bound, self.after + len(rows)
                if after + page_size > SEARCH_CAP:
                    # a run longer than search can page through: move the floor past it
                    floor, after = top + 1, 0
        keep = since - lag_ms if floor is None else min(floor, since - lag_ms)
        seen = {i: ms for i, ms in seen.items() if ms >= keep}
        return replace(self, since=since, seen=seen, floor=floor, after=after)

    def deleted_until(self, ms: int) -> ChangeCursor:
        """The cursor once deletions up to ``ms`` are reported."""
        return replace(self, deleted_since=max(self.deleted_since, ms))
