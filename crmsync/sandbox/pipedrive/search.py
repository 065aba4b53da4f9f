"""The */search endpoints: term matching over chosen fields, and the result item shape."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import DEAL, LEAD, ORGANIZATION, PERSON, Kind
from crmsync.sandbox.pipedrive.render import Names, v2_time
from crmsync.sandbox.pipedrive.store import Record

_DIGITS = re.compile(r"\D")


def fields_param(kind: Kind, query: Mapping[str, str]) -> tuple[str, ...]:
    raw = query.get("fields")
    if not raw:
        return kind.searchable
    chosen = tuple(f.strip() for f in raw.split(",") if f.strip())
    unknown = [f for f in chosen if f not in kind.searchable]
    if unknown:
        allowed = ", ".join(kind.searchable)
        raise PipedriveError(400, f"Invalid field(s) {', '.join(unknown)}; allowed: {allowed}")
    return chosen


def term_param(query: Mapping[str, str]) -> tuple[str, bool]:
    term = (query.get("term") or "").strip()
    exact = query.get("exact_match", "false").lower() in ("true", "1")
    if len(term) < (1 if exact else 2):
        raise PipedriveError(
            400, "Search term must be at least 2 characters long (1 with exact_match)"
        )
    return term, exact


def ranked(
    kind: Kind, records: Iterable[Record], query: Mapping[str, str]
) -> list[tuple[float, Record]]:
    """(result_score, record) of the records matching the query's term, best first."""
    term, exact = term_param(query)
    fields = fields_param(kind, query)
    hits = [(score(r, fields, term, exact), r) for r in records]
    return sorted((h for h in hits if h[0] > 0), key=lambda h: -h[0])


def results(kind: Kind, hits: Iterable[tuple[float, Record]], names: Names) -> dict[str, Any]:
    """The `data` of a search answer: `{"items": [{"result_score", "item"}]}`."""
    return {"items": [{"result_score": s, "item": item(kind, r, names)} for s, r in hits]}


def score(record: Record, fields: tuple[str, ...], term: str, exact: bool) -> float:
    """0 when the record does not match; higher for exact matches, like result_score."""
    best = 0.0
    for value in _values(record, fields):
        best = max(best, _match(value, term, exact))
    return best


def _values(record: Record, fields: tuple[str, ...]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name in fields:
        if name == "email":
            out += [("email", e["value"]) for e in record.get("emails", [])]
        elif name == "phone":
            out += [("phone", p["value"]) for p in record.get("phones", [])]
        elif name == "custom_fields":
            out += [("text", str(v)) for v in record["custom_fields"].values()]
        elif name == "address":
            address = record.get("address")
            text = address.get("value") if isinstance(address, dict) else address
            if text:
                out.append(("text", str(text)))
        elif record.get(name):
            out.append(("text", str(record[name])))
    return out


def _match(value: tuple[str, str], term: str, exact: bool) -> float:
    kind, text = value
    if kind == "phone":
        digits, wanted = _DIGITS.sub("", text), _DIGITS.sub("", term)
        if not wanted:
            return 0.0
        if digits == wanted:
            return 1.0
        return 0.0 if exact or wanted not in digits else 0.5
    text, term = text.lower(), term.lower()
    if text == term:
        return 1.0
    if exact:
        return 0.0
    return 0.5 if term in text else 0.0


def item(kind: Kind, record: Record, names: Names) -> dict[str, Any]:
    """One search result item (the same shape in v1 and v2)."""
    out: dict[str, Any] = {
        "id": record["id"],
        "type": kind.singular,
        "visible_to": record.get("visible_to", 3),
        "owner": {"id": record.get("owner_id", 1)},
        "custom_fields": [str(v) for v in record["custom_fields"].values()],
        "notes": [],
        "update_time": v2_time(record["update_time"]),
    }
    org_id = record.get("org_id", record.get("organization_id"))
    organization = None
    if org_id is not None:
        organization = {"id": org_id, "name": names("organizations", org_id)}
    if kind is PERSON:
        out["name"] = record.get("name")
        out["emails"] = [e["value"] for e in record.get("emails", [])]
        out["phones"] = [p["value"] for p in record.get("phones", [])]
        out["primary_email"] = out["emails"][0] if out["emails"] else None
        out["organization"] = organization
    elif kind is ORGANIZATION:
        out["name"] = record.get("name")
        out["address"] = record.get("address")
    elif kind in (DEAL, LEAD):
        out["title"] = record.get("title")
        out["status"] = record.get("status", "open")
        out["value"] = record.get("value")
        out["currency"] = record.get("currency")
        person_id = record.get("person_id")
        out["person"] = None if person_id is None else {"id": person_id}
        out["organization"] = organization
    return out
