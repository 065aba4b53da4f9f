"""List conventions: `page[number]`/`page[size]`, `filter=a=x,b=y`, `sort=a,-b` and
`{items, links}` replies."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from crmsync.sandbox.totalexpert.errors import TotalExpertError

DEFAULT_SIZE = 10


def filters(query: Mapping[str, str], allowed: Sequence[str]) -> dict[str, str]:
    """`filter=internal_updated_at_start=2024-01-01 00:00:00,email=a@b.c` as a dict."""
    raw = query.get("filter")
    if not raw:
        return {}
    out: dict[str, str] = {}
    for part in raw.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or name not in allowed:
            raise TotalExpertError(400, f"Invalid filter '{name}'")
        out[name] = value.strip()
    return out


def sort(
    rows: list[dict[str, Any]], query: Mapping[str, str], allowed: Sequence[str]
) -> list[dict[str, Any]]:
    raw = query.get("sort")
    if not raw:
        return rows
    # Apply keys last to first so the first key wins (stable sorts).
    for key in reversed([k.strip() for k in raw.split(",") if k.strip()]):
        name = key.lstrip("-")
        if name not in allowed:
            raise TotalExpertError(400, f"Invalid sort '{name}'")
        rows = sorted(rows, key=_sort_key(name), reverse=key.startswith("-"))
    return rows


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    return lambda row: (row.get(name) is None, row.get(name) or 0)


def _number(query: Mapping[str, str], name: str, default: int, low: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise TotalExpertError(400, f"'{name}' must be a positive integer") from None
    if value < low:
        raise TotalExpertError(400, f"'{name}' must be a positive integer")
    # page[number]=0 is what some clients send for the first page
    return max(value, 1)


def page(
    rows: Sequence[Any],
    query: Mapping[str, str],
    render: Callable[[Any], Any],
    max_size: int = 100,
) -> dict[str, Any]:
    number = _number(query, "page[number]", 1, low=0)
    size = _number(query, "page[size]", DEFAULT_SIZE, low=1)
    if size > max_size:
        raise TotalExpertError(400, f"'page[size]' must be at most {max_size}")
    last = max(1, math.ceil(len(rows) / size))
    chunk = rows[(number - 1) * size : number * size]
    return {
        "items": [render(r) for r in chunk],
        "links": {
            "first": 1,
            "last": last,
            "next": number + 1 if number < last else None,
            "prev": number - 1 if number > 1 else None,
        },
    }
