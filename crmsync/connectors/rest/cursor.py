"""Where incremental reading of one REST object type got to, and how it moves on.

A poll asks for records modified at or after ``since`` and pages through the answer
with the CRM's own page token (``page``). ``since`` moves only when a listing is read
to its end, to the newest modified time seen (``high``); the ids seen at exactly that
time are remembered, because the next poll asks again from that same instant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from crmsync.connectors.cursor import JsonCursor

__all__ = ["PollCursor"]


@dataclass(frozen=True, slots=True)
class PollCursor(JsonCursor):
    """``since``/``high`` in epoch ms, ids seen at ``since``/``high``, the page token."""

    since: int | None = None
    seen: tuple[str, ...] = ()
    page: str | None = None
    high: int | None = None
    at_high: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since,
            "seen": list(self.seen),
            "page": self.page,
            "high": self.high,
            "at_high": list(self.at_high),
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> PollCursor:
        return cls(
            since=raw.get("since"),
            seen=tuple(raw.get("seen") or ()),
            page=raw.get("page"),
            high=raw.get("high"),
            at_high=tuple(raw.get("at_high") or ()),
        )

    def fresh(self, rows: Sequence[tuple[str, int]]) -> list[str]:
        """Ids of a page's (id, modified ms) rows not delivered by the previous poll."""
        skip = set(self.seen)
        return [i for i, ms in rows if not (ms == self.since and i in skip)]

    def after_page(self, rows: Sequence[tuple[str, int]], next_page: str | None) -> PollCursor:
        """The cursor after one page; at the end of a listing ``since`` moves to ``high``."""
        high, at_high = self.high, list(self.at_high)
        for remote_id, ms in rows:
            if high is None or ms > high:
                high, at_high = ms, [remote_id]
            elif ms == high and remote_id not in at_high:
                at_high.append(remote_id)
        if next_page is not None:
            return replace(self, page=next_page, high=high, at_high=tuple(at_high))
        if high is None:
            return replace(self, page=None)
        seen = (
            tuple(at_high) if high != self.since else tuple(dict.fromkeys((*self.seen, *at_high)))
        )
        return PollCursor(since=high, seen=seen)
