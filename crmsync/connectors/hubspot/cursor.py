"""Where incremental reading of one HubSpot object type got to, and how it moves on.

Search pages by offset and stops at 10,000 results, and an offset shifts when a record
in front of it changes. So the cursor is a keyset on the modified time instead: each
page asks for ``modified >= since`` in ascending order and skips the ids already seen at
exactly ``since``. Offsets are used only inside a run of records sharing one
millisecond, and a run longer than the cap moves the window on by one millisecond.
Deletions (archived records) are tracked by their own high-water mark.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

__all__ = ["SEARCH_CAP", "ChangeCursor"]

SEARCH_CAP = 10_000


@dataclass(frozen=True, slots=True)
class ChangeCursor:
    """Keyset position: ``since`` (epoch ms), ids seen at ``since``, offset within it."""

    since: int = 0
    seen: tuple[str, ...] = ()
    after: int = 0
    deleted_since: int = 0
    deletions_done: bool = field(default=False, compare=False)

    def encode(self) -> str:
        """Opaque text for the sync state."""
        return json.dumps(
            {
                "since": self.since,
                "seen": list(self.seen),
                "after": self.after,
                "deleted_since": self.deleted_since,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, text: str | None) -> ChangeCursor:
        """Inverse of ``encode``; ``None`` starts from the beginning."""
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            since=int(raw.get("since", 0)),
            seen=tuple(str(i) for i in raw.get("seen", ())),
            after=int(raw.get("after", 0)),
            deleted_since=int(raw.get("deleted_since", 0)),
        )

    def fresh(self, rows: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
        """Rows of a page (id, modified ms) not already delivered at the boundary."""
        skip = set(self.seen)
        return [(i, ms) for i, ms in rows if not (ms == self.since and i in skip)]

    def advance(self, rows: Sequence[tuple[str, int]], page_size: int) -> ChangeCursor:
        """The cursor after a page of (id, modified ms) rows in ascending modified order."""
        if not rows:
            return replace(self, after=0)
        top = max(ms for _, ms in rows)
        at_top = tuple(i for i, ms in rows if ms == top)
        if top != self.since:
            return replace(self, since=top, seen=at_top, after=0)
        # the whole page shares one millisecond: page through it by offset
        after = self.after + len(rows)
        if after + page_size > SEARCH_CAP:
            # a run longer than search can page through: move the window past it
            return replace(self, since=top + 1, seen=(), after=0)
        return replace(self, seen=tuple(dict.fromkeys((*self.seen, *at_top))), after=after)

    def deleted_until(self, ms: int) -> ChangeCursor:
        """The cursor once deletions up to ``ms`` are reported."""
        return replace(self, deleted_since=max(self.deleted_since, ms))
