"""Record rendering in Pipedrive's v1 and v2 shapes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmsync.sandbox import timefmt
from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import ACTIVITY, DEAL, LEAD, NOTE, ORGANIZATION, PERSON, Kind
from crmsync.sandbox.pipedrive.store import Record

COMPANY_ID = 7001
USER = {"id": 1, "name": "Sandbox Owner", "email": "owner@sandbox.example"}
_HIDDEN = frozenset({"custom_fields", "emails", "phones", "is_deleted", "is_archived"})


def parse_rfc3339(raw: str, name: str) -> float:
    """An RFC 3339 query parameter as epoch seconds; PipedriveError(400) when malformed."""
    if "." in raw:
        # the live API rejects fractional seconds in updated_since/updated_until
        raise PipedriveError(400, f"'{name}' must be RFC 3339 without fractional seconds")
    seconds = timefmt.parse_iso(raw)
    if seconds is None:
        raise PipedriveError(400, f"'{name}' must be an RFC 3339 date-time")
    return seconds


def v1_time(epoch: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` (UTC), from the shared cached formatter."""
    return timefmt.iso_ms(int(epoch) * 1000)[:19].replace("T", " ")


def v2_time(epoch: float) -> str:
    """RFC 3339 in whole seconds, `YYYY-MM-DDTHH:MM:SSZ`."""
    return timefmt.iso_ms(int(epoch) * 1000)[:19] + "Z"


def lead_time(epoch: float) -> str:
    """RFC 3339 with milliseconds, as v1 leads carry it."""
    return timefmt.iso(epoch)


def _user(user_id: Any) -> dict[str, Any] | None:
    if user_id is None:
        return None
    return {**USER, "id": user_id, "has_pic": 0, "active_flag": True, "value": user_id}


Names = Callable[[str, Any], str]  # (entity plural, id) -> display name


def v1(kind: Kind, record: Record, names: Names | None = None) -> Record:
    """The v1 shape: custom fields flat under their hash keys, related ids as objects."""
    names = names or (lambda plural, record_id: "")
    out: Record = {k: v for k, v in record.items() if k not in _HIDDEN}
    if kind is LEAD:
        out.update(
            add_time=lead_time(record["add_time"]),
            update_time=lead_time(record["update_time"]),
            is_archived=record["is_archived"],
        )
        return out
    out.update(add_time=v1_time(record["add_time"]), update_time=v1_time(record["update_time"]))
    out["company_id"] = COMPANY_ID
    out.update(v1_custom(record["custom_fields"]))
    active = not record["is_deleted"]
    if kind in (PERSON, ORGANIZATION):
        out["owner_id"] = _user(record.get("owner_id", USER["id"]))
        out["active_flag"] = active
    if kind is PERSON:
        out["email"] = record.get("emails") or [{"value": "", "primary": True}]
        out["phone"] = record.get("phones") or [{"value": "", "primary": True}]
        out["primary_email"] = next((e["value"] for e in out["email"] if e.get("primary")), None)
        out["org_id"] = _related(record.get("org_id"), "organizations", names)
    if kind is DEAL:
        out["user_id"] = _user(record.get("owner_id", USER["id"]))
        out["person_id"] = _related(record.get("person_id"), "persons", names)
        out["org_id"] = _related(record.get("org_id"), "organizations", names)
        out["active"] = active and record.get("status", "open") == "open"
        out["deleted"] = not active
        out["status"] = record.get("status", "open") if active else "deleted"
    if kind in (ACTIVITY, NOTE):
        out["active_flag"] = active
        out.setdefault("user_id", USER["id"])
    return out


def v1_custom(values: Record) -> Record:
    """Custom values flat, as v1 shows them: a set as ``"1,2"``, a monetary amount
    with its currency beside it under ``<key>_currency``."""
    out: Record = {}
    for key, value in values.items():
        if isinstance(value, list):
            out[key] = ",".join(str(v) for v in value)
        elif isinstance(value, dict) and "currency" in value:
            out[key] = value.get("value")
            out[f"{key}_currency"] = value.get("currency")
        else:
            out[key] = value
    return out


def _related(record_id: Any, plural: str, names: Names) -> dict[str, Any] | None:
    if record_id is None:
        return None
    return {"name": names(plural, record_id), "value": record_id, "active_flag": True}


def v2(kind: Kind, record: Record) -> Record:
    """The v2 shape: flat integer ids, RFC 3339 times, custom fields in `custom_fields`."""
    out: Record = dict(record)
    out.update(add_time=v2_time(record["add_time"]), update_time=v2_time(record["update_time"]))
    out.pop("is_archived", None)
    out.setdefault("owner_id", USER["id"])
    out.setdefault("visible_to", 3)
    out.setdefault("label_ids", [])
    if kind is PERSON:
        first, _, last = str(record.get("name") or "").partition(" ")
        out.setdefault("first_name", first or None)
        out.setdefault("last_name", last or None)
        out.setdefault("org_id", None)
        out["emails"] = record.get("emails", [])
        out["phones"] = record.get("phones", [])
    if kind is DEAL:
        out["is_archived"] = record["is_archived"]
        out["status"] = "deleted" if record["is_deleted"] else record.get("status", "open")
    if kind is ACTIVITY:
        out["done"] = bool(record.get("done", False))
    return out
