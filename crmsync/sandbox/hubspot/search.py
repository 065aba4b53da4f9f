"""CRM search: filter groups (OR of ANDs), one sort, `after` offsets, result caps.

Pure functions over records; the endpoint turns `SearchError` into VALIDATION_ERROR.
Values compare case-insensitively as text, numerically for number properties, and
as epoch milliseconds for dates (filters send ms or ISO). The filter-count caps are
published both as 5 groups / 6 per group / 18 total and as 5 / 10 / 25, hence
`SearchCaps`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crmsync.sandbox.hubspot.properties import PropertyDef
from crmsync.sandbox.hubspot.records import Record
from crmsync.sandbox.timefmt import to_ms

MAX_PAGE = 200
MAX_TOTAL = 10_000
MAX_QUERY = 3000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}


class SearchError(ValueError):
    """The search request is invalid (answered as 400 VALIDATION_ERROR)."""


@dataclass(frozen=True)
class SearchCaps:
    """Limits on filter groups and filters, and the index lag: records changed in the
    last `lag_ms` milliseconds are not searchable yet (HubSpot's search index is
    eventually consistent; 0 makes every change visible at once)."""

    groups: int = 5
    per_group: int = 6
    total: int = 18
    lag_ms: int = 0


@dataclass(frozen=True)
class SearchPage:
    """One page of results: matching records, the total, and the next offset."""

    records: list[Record]
    total: int
    next_after: str | None


Associated = Callable[[str, str], set[str]]


def run(
    records: Iterable[Record],
    body: Mapping[str, Any],
    defs: Mapping[str, PropertyDef],
    query_fields: Sequence[str],
    caps: SearchCaps = SearchCaps(),
    associated: Associated | None = None,
) -> SearchPage:
    """Evaluate a `PublicObjectSearchRequest` body over live `records`."""
    groups = _groups(body.get("filterGroups") or [], caps)
    limit = _int(body.get("limit", 10), "limit")
    if not 0 < limit <= MAX_PAGE:
        raise SearchError(f"limit must be between 1 and {MAX_PAGE}")
    after = _int(body.get("after") or 0, "after")
    if after + limit > MAX_TOTAL:
        raise SearchError(f"Paging is limited to the first {MAX_TOTAL} results.")
    text = str(body.get("query") or "").lower()
    if len(text) > MAX_QUERY:
        raise SearchError(f"query must be at most {MAX_QUERY} characters")
    hits = [
        r
        for r in records
        if (not text or _text_match(r, text, query_fields))
        and (not groups or any(all(_test(r, f, defs, associated) for f in g) for g in groups))
    ]
    hits = _sort(hits, body.get("sorts") or [], defs)
    page = hits[after : after + limit]
    more = after + limit < len(hits)
    return SearchPage(page, len(hits), str(after + limit) if more else None)


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SearchError(f"{name} must be an integer") from None


def _groups(raw: Any, caps: SearchCaps) -> list[list[Mapping[str, Any]]]:
    if not isinstance(raw, list):
        raise SearchError("filterGroups must be a list")
    groups = [list(g.get("filters") or []) for g in raw if isinstance(g, Mapping)]
    if len(groups) > caps.groups:
        raise SearchError(f"Too many filter groups: at most {caps.groups} allowed")
    if any(len(g) > caps.per_group for g in groups):
        raise SearchError(f"Too many filters in a group: at most {caps.per_group} allowed")
    if sum(len(g) for g in groups) > caps.total:
        raise SearchError(f"Too many filters: at most {caps.total} allowed in total")
    for group in groups:
        for item in group:
            if not isinstance(item, Mapping) or not item.get("propertyName"):
                raise SearchError("every filter needs a propertyName")
            if item.get("operator") not in OPERATORS:
                raise SearchError(f"Unknown operator {item.get('operator')!r}")
    return groups


def _text_match(record: Record, text: str, fields: Sequence[str]) -> bool:
    tokens = text.replace("*", "").split()
    values = " ".join((record.value(f) or "").lower() for f in fields)
    return all(t in values for t in tokens)


def _key(value: str | None, kind: str) -> Any:
    """A comparable form of a property value for its type."""
    if value is None or value == "":
        return None
    if kind in ("datetime", "date"):
        return to_ms(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            return None
    return value.lower()


def _test(
    record: Record,
    item: Mapping[str, Any],
    defs: Mapping[str, PropertyDef],
    associated: Associated | None,
) -> bool:
    name = str(item["propertyName"])
    op = item["operator"]
    if name.startswith("associations."):
        ids = associated(record.id, name.split(".", 1)[1]) if associated else set()
        found = str(item.get("value")) in ids
        return found if op in ("EQ", "IN") else not found
    prop = defs.get(name)
    kind = prop.type if prop else "string"
    have = _key(record.value(name), kind)
    if op == "HAS_PROPERTY":
        return have is not None
    if op == "NOT_HAS_PROPERTY":
        return have is None
    if op in ("IN", "NOT_IN"):
        wanted = {_key(str(v), kind) for v in item.get("values") or []}
        return (have in wanted) == (op == "IN")
    if op in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        token = str(item.get("value", "")).lower().strip("*")
        found = have is not None and token in str(have)
        return found == (op == "CONTAINS_TOKEN")
    value = _key(str(item.get("value", "")), kind)
    if op == "NEQ":
        return have != value
    if have is None or value is None:
        return False
    if op == "BETWEEN":
        high = _key(str(item.get("highValue", "")), kind)
        return high is not None and value <= have <= high
    return bool(_COMPARE[op](have, value))


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda a, b: a == b,
    "LT": lambda a, b: a < b,
    "LTE": lambda a, b: a <= b,
    "GT": lambda a, b: a > b,
    "GTE": lambda a, b: a >= b,
}


def _sort(hits: list[Record], sorts: Any, defs: Mapping[str, PropertyDef]) -> list[Record]:
    """One sort rule; default is creation order. Records without a value go last."""
    if not sorts:
        return hits
    rule = sorts[0]
    if isinstance(rule, str):  # the spec types sorts as strings: "-name" / "name"
        name, descending = rule.lstrip("-"), rule.startswith("-")
    else:
        name = str(rule.get("propertyName"))
        descending = str(rule.get("direction", "ASCENDING")).upper() == "DESCENDING"
    prop = defs.get(name)
    kind = prop.type if prop else "string"
    keyed = [(_key(r.value(name), kind), r) for r in hits]
    present = sorted(
        (p for p in keyed if p[0] is not None),
        key=lambda p: (p[0], int(p[1].id)),
        reverse=descending,
    )
    return [r for _, r in present] + [r for k, r in keyed if k is None]
