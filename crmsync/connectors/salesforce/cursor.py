"""The polling cursor: a watermark on the modified stamp, a lag window, and a query page.

Salesforce stamps have whole-second precision and a transaction can commit with a stamp
a little in the past, so each poll re-reads ``lag`` seconds before the watermark. The
cursor remembers a digest of each row inside that window it already reported, so a
re-read row comes back only when its content changed, even within the same second.
``next_url`` is the ``nextRecordsUrl`` of a query still being paged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from crmsync.connectors.cursor import JsonCursor
from crmsync.fingerprint import fingerprint

__all__ = ["ChangeCursor", "digest"]

Row = Mapping[str, Any]


def digest(row: Row) -> str:
    """A short fingerprint of a row's content, to tell a changed row from a re-read one."""
    return fingerprint(row, 16)


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _from_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class ChangeCursor(JsonCursor):
    """Where polling resumes (see the module docstring)."""

    since_ms: int | None = None
    # Id -> (stamp in ms, digest of the row) of rows reported inside the lag window
    seen: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    next_url: str | None = None

    KIND = "Salesforce change cursor"

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> ChangeCursor:
        seen = {str(k): (int(v[0]), str(v[1])) for k, v in raw.get("w", {}).items()}
        return cls(raw.get("s"), seen, raw.get("n"))

    def to_json(self) -> dict[str, Any]:
        raw: dict[str, Any] = {"s": self.since_ms, "w": {k: list(v) for k, v in self.seen.items()}}
        if self.next_url:
            raw["n"] = self.next_url
        return raw

    def query_since(self, lag: float) -> datetime | None:
        """The lower bound of the next query: the watermark minus the lag window."""
        if self.since_ms is None:
            return None
        return _from_ms(self.since_ms) - timedelta(seconds=lag)

    def is_fresh(self, remote_id: str, digest: str) -> bool:
        """Whether this version of the row was not reported yet."""
        known = self.seen.get(remote_id)
        return known is None or known[1] != digest

    def advance(
        self, rows: Iterable[tuple[str, datetime | None, str]], lag: float, next_url: str | None
    ) -> ChangeCursor:
        """The cursor after reading ``rows`` (Id, stamp, digest); ``next_url`` to page on."""
        seen = dict(self.seen)
        since = self.since_ms
        for remote_id, stamp, digest in rows:
            if stamp is None:
                continue
            at = _ms(stamp)
            seen[remote_id] = (at, digest)
            since = at if since is None else max(since, at)
        if since is not None:
            floor = since - int(lag * 1000)
            seen = {k: v for k, v in seen.items() if v[0] >= floor}
        return ChangeCursor(since, seen, next_url)

    def restarted(self) -> ChangeCursor:
        """The same watermark without the query page (its locator expired)."""
        return ChangeCursor(self.since_ms, self.seen, None)
