"""v1 offset pagination (`start`/`limit`) and v2 cursor pagination (`cursor`/`limit`)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from crmsync.sandbox.pipedrive.envelope import PipedriveError

V1_MAX_LIMIT = 500
V2_MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def int_param(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PipedriveError(400, f"Parameter '{name}' must be an integer") from None
    if not low <= value <= high:
        raise PipedriveError(400, f"Parameter '{name}' must be between {low} and {high}")
    return value


@dataclass(frozen=True)
class OffsetPage:
    """One v1 page of `items` plus its `pagination` block."""

    items: list[Any]
    start: int
    limit: int
    more: bool

    def pagination(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "start": self.start,
            "limit": self.limit,
            "more_items_in_collection": self.more,
        }
        if self.more:
            block["next_start"] = self.start + self.limit
        return block


def offset_page(items: Sequence[Any], query: Mapping[str, str]) -> OffsetPage:
    start = int_param(query, "start", 0, 0, 2**31)
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, V1_MAX_LIMIT)
    chunk = list(items[start : start + limit])
    return OffsetPage(chunk, start, limit, start + limit < len(items))


def encode_cursor(position: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        position = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, orjson.JSONDecodeError):
        raise PipedriveError(400, "Invalid cursor") from None
    if not isinstance(position, list):
        raise PipedriveError(400, "Invalid cursor")
    return position


def cursor_page(
    items: Sequence[Any], positions: Sequence[list[Any]], query: Mapping[str, str]
) -> tuple[list[Any], str | None]:
    """Items after the cursor's position; `positions` are the sort keys of `items`, ascending.

    The cursor holds the sort key of the last item served (keyset paging), so records
    written between pages neither repeat nor vanish.
    """
    limit = int_param(query, "limit", DEFAULT_LIMIT, 1, V2_MAX_LIMIT)
    first = 0
    if query.get("cursor"):
        after = decode_cursor(query["cursor"])
        first = next((n for n, p in enumerate(positions) if p > after), len(items))
    chunk = list(items[first : first + limit])
    more = first + limit < len(items)
    return chunk, encode_cursor(positions[first + limit - 1]) if more else None
