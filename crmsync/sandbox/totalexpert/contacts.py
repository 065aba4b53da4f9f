"""Contact attributes and relationships: validation of request bodies and the reply shape."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.sandbox import timefmt
from crmsync.sandbox.totalexpert.errors import TotalExpertError

ATTRIBUTES = frozenset(
    {
        "first_name", "last_name", "title", "email", "email_work", "address", "address_2",
        "city", "state", "zip_code", "phone_cell", "phone_home", "phone_office", "fax",
        "birthday", "close_date", "creation_date", "credit_score", "employer_name",
        "employer_address", "employer_city", "employer_state", "employer_zip",
        "external_id", "source", "nickname", "linkedin_url", "ok_to_call", "ok_to_email",
        "ok_to_mail", "classification", "list_date",
    }
)  # fmt: skip
RELATIONSHIPS = frozenset(
    {"owner", "contact_groups", "external_ids", "custom", "remove_contact_groups"}
)
SPECIAL = frozenset({"do_not_contact", "options", "archived"})
CLEAR_DATE = "0000-00-00 00:00:00"

# The sandbox account's users, found by any unique attribute in an `owner` relationship.
USERS = (
    {"id": 1, "username": "sandbox.owner", "email": "owner@sandbox.example",
     "external_id": "owner-1", "first_name": "Sandbox", "last_name": "Owner"},
    {"id": 2, "username": "sandbox.agent", "email": "agent@sandbox.example",
     "external_id": "agent-2", "first_name": "Sandbox", "last_name": "Agent"},
)  # fmt: skip


def te_time(epoch: float) -> str:
    """`YYYY-MM-DD HH:MM:SS` (UTC), from the shared cached formatter."""
    return timefmt.iso_ms(int(epoch) * 1000)[:19].replace("T", " ")


def parse_time(raw: str, name: str) -> float:
    """ISO-8601 or `YYYY-MM-DD HH:MM:SS` (UTC) as epoch seconds."""
    seconds = timefmt.parse_iso(raw)
    if seconds is None:
        raise TotalExpertError(400, f"Invalid date for filter '{name}'")
    return seconds


def find_user(reference: Any) -> dict[str, Any] | None:
    if not isinstance(reference, Mapping):
        return None
    for user in USERS:
        for key in ("id", "username", "email", "external_id"):
            if key in reference and str(reference[key]).lower() == str(user[key]).lower():
                return dict(user)
    return None


def parse_contact(body: Any, creating: bool) -> dict[str, Any]:
    """Stored values from a POST/PATCH body; TotalExpertError for what the API refuses."""
    if not isinstance(body, Mapping):
        raise TotalExpertError(400, "Malformed JSON: expected an object")
    unknown = set(body) - ATTRIBUTES - RELATIONSHIPS - SPECIAL
    if unknown:
        raise TotalExpertError(400, f"Invalid attribute(s): {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {k: v for k, v in body.items() if k in ATTRIBUTES}
    if "owner" in body or creating:
        owner = find_user(body.get("owner"))
        if owner is None:
            raise TotalExpertError(422, "Unable to find target for relationship: 'owner'")
        values["owner_id"] = owner["id"]
    if "external_ids" in body:
        ids = body["external_ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, Mapping) and i.get("external_id") for i in ids
        ):
            raise TotalExpertError(422, "external_ids must be a list of {source, external_id}")
        values["external_ids"] = [
            {"source": str(i.get("source") or ""), "external_id": str(i["external_id"])}
            for i in ids
        ]
    if "custom" in body:
        custom = body["custom"]
        if not isinstance(custom, list) or not all(
            isinstance(c, Mapping) and c.get("field_name") for c in custom
        ):
            raise TotalExpertError(422, "custom must be a list of {field_name, value}")
        values["custom"] = {str(c["field_name"]): c.get("value") for c in custom}
    if "contact_groups" in body:
        values["contact_groups"] = [_group(g) for g in body["contact_groups"] or []]
    if "remove_contact_groups" in body:
        values["remove_contact_groups"] = [_group(g) for g in body["remove_contact_groups"] or []]
    if "archived" in body:
        values["archived"] = str(body["archived"]).lower() in ("1", "true")
    if creating:
        check_required(values)
    return values


# A created contact needs `source` plus one identifying combination (TE-PM "Create
# Contact": source+first+last with email, a phone, or a full postal address).
IDENTIFYING: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name", "email"),
    ("first_name", "last_name", "phone_cell"),
    ("first_name", "last_name", "phone_home"),
    ("first_name", "last_name", "phone_office"),
    ("first_name", "last_name", "address", "city", "state", "zip_code"),
)


def check_required(values: Mapping[str, Any]) -> None:
    """422 unless `values` hold `source` and one identifying combination."""

    def given(name: str) -> bool:
        return str(values.get(name) or "").strip() != ""

    missing = [] if given("source") else ["source"]
    if not any(all(given(n) for n in combo) for combo in IDENTIFYING):
        closest = min(IDENTIFYING, key=lambda combo: sum(not given(n) for n in combo))
        missing += [n for n in closest if not given(n)]
    if missing:
        raise TotalExpertError(422, f"Missing required attribute(s): {', '.join(missing)}")


def _group(group: Any) -> str:
    if isinstance(group, Mapping) and (group.get("group_name") or group.get("id")):
        return str(group.get("group_name") or group.get("id"))
    raise TotalExpertError(422, "Unable to find target for relationship: 'contact_groups'")


def merge(contact: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Apply parsed values; `custom` null values delete, group lists add or remove."""
    for name, value in values.items():
        if name == "custom":
            current = contact.setdefault("custom", {})
            for field_name, field_value in value.items():
                if field_value is None:
                    current.pop(field_name, None)
                else:
                    current[field_name] = field_value
        elif name == "external_ids":
            known = {(i["source"], i["external_id"]) for i in contact.get("external_ids", [])}
            contact.setdefault("external_ids", []).extend(
                i for i in value if (i["source"], i["external_id"]) not in known
            )
        elif name == "contact_groups":
            groups = contact.setdefault("contact_groups", [])
            groups.extend(g for g in value if g not in groups)
        elif name == "remove_contact_groups":
            contact["contact_groups"] = [
                g for g in contact.get("contact_groups", []) if g not in value
            ]
        elif value == CLEAR_DATE:
            contact[name] = None
        else:
            contact[name] = value


def render(contact: Mapping[str, Any]) -> dict[str, Any]:
    out = {k: contact.get(k) for k in sorted(ATTRIBUTES)}
    owner = find_user({"id": contact.get("owner_id")})
    out.update(
        id=contact["id"],
        owner=owner,
        external_ids=list(contact.get("external_ids", [])),
        custom=[{"field_name": k, "value": v} for k, v in contact.get("custom", {}).items()],
        contact_groups=[{"group_name": g} for g in contact.get("contact_groups", [])],
        archived="True" if contact.get("archived") else "False",
        internal_created_at=te_time(contact["internal_created_at"]),
        internal_updated_at=te_time(contact["internal_updated_at"]),
    )
    return out
