"""Request bodies (v1 and v2) turned into stored record values, with Pipedrive's checks."""

from __future__ import annotations

import re
from typing import Any

from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import DEAL, LEAD, NOTE, PERSON, Kind

HASH_KEY = re.compile(r"^[0-9a-f]{40}$")
_ID_FIELDS = ("owner_id", "org_id", "person_id", "deal_id", "organization_id", "user_id")
_NUMERIC_TYPES = ("double", "monetary")
_DEAL_STATUSES = ("open", "won", "lost")


def parse(
    kind: Kind,
    body: Any,
    custom: dict[str, dict[str, Any]],
    version: int,
    creating: bool,
) -> dict[str, Any]:
    """Validated values for the store; raises PipedriveError(400) like the API does."""
    if not isinstance(body, dict):
        raise PipedriveError(400, "Request body must be a JSON object")
    values: dict[str, Any] = {}
    custom_values: dict[str, Any] = {}
    for name, value in body.items():
        if name == "custom_fields":
            if not isinstance(value, dict):
                raise PipedriveError(400, "custom_fields must be an object")
            for key, item in value.items():
                custom_values[_custom_key(key, custom)] = item
        elif HASH_KEY.match(name) and version == 1:
            custom_values[_custom_key(name, custom)] = value
        else:
            values[name] = value
    for key, value in custom_values.items():
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if value is not None and custom[key]["field_type"] in _NUMERIC_TYPES and not numeric:
            raise PipedriveError(400, f"Invalid value for field '{custom[key]['name']}'")
    values["custom_fields"] = custom_values
    _check_ids(values)
    if kind is PERSON:
        _contact_lists(values, version)
    if kind is DEAL and "status" in values and values["status"] not in _DEAL_STATUSES:
        raise PipedriveError(400, "Invalid status. Allowed: open, won, lost")
    if kind is LEAD and "value" in values and values["value"] is not None:
        amount = values["value"]
        if not isinstance(amount, dict) or not isinstance(amount.get("amount"), int | float):
            raise PipedriveError(400, "value must be an object with amount and currency")
    if creating:
        _required(kind, values)
    return values


def _custom_key(key: str, custom: dict[str, dict[str, Any]]) -> str:
    if key not in custom:
        raise PipedriveError(400, f"Unknown custom field '{key}'")
    return key


def _check_ids(values: dict[str, Any]) -> None:
    for name in _ID_FIELDS:
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            if isinstance(value, str) and value.isdigit():
                values[name] = int(value)
            else:
                raise PipedriveError(400, f"Invalid {name}: must be an integer")


def _contact_lists(values: dict[str, Any], version: int) -> None:
    """v1 takes `email`/`phone` as a string, strings or objects; v2 takes `emails`/`phones`."""
    for v1_name, v2_name in (("email", "emails"), ("phone", "phones")):
        raw = values.pop(v1_name if version == 1 else v2_name, None)
        values.pop(v2_name if version == 1 else v1_name, None)
        if raw is None:
            continue
        items = raw if isinstance(raw, list) else [raw]
        parsed = []
        for n, item in enumerate(items):
            entry = {"value": item} if isinstance(item, str) else item
            if not isinstance(entry, dict) or not isinstance(entry.get("value"), str):
                raise PipedriveError(400, f"Invalid {v1_name} value")
            parsed.append(
                {
                    "value": entry["value"],
                    "primary": bool(entry.get("primary", n == 0)),
                    "label": entry.get("label", "work"),
                }
            )
        values[v2_name] = parsed


def _required(kind: Kind, values: dict[str, Any]) -> None:
    for name in kind.required:
        value = values.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PipedriveError(400, f"{name.capitalize()} must be given.")
    if kind.relations and not any(values.get(r) is not None for r in kind.relations):
        if kind is NOTE:
            raise PipedriveError(
                400, "Note must be attached to a lead, deal, person, organization or project."
            )
        raise PipedriveError(400, "A lead must be linked to a person or an organization.")
