"""Request bodies (v1 and v2) turned into stored record values, with Pipedrive's checks."""

from __future__ import annotations

import re
from typing import Any

from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import DEAL, LEAD, NOTE, PERSON, Kind

HASH_KEY = re.compile(r"^[0-9a-f]{40}$")
_ID_FIELDS = ("owner_id", "org_id", "person_id", "deal_id", "organization_id", "user_id")
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
    currencies: dict[str, Any] = {}
    for name, value in body.items():
        if name == "custom_fields" and version == 2:
            if not isinstance(value, dict):
                raise PipedriveError(400, "custom_fields must be an object")
            for key, item in value.items():
                custom_values[_custom_key(key, custom)] = item
        elif HASH_KEY.match(name) and version == 1:
            custom_values[_custom_key(name, custom)] = value
        elif version == 1 and name.endswith("_currency") and HASH_KEY.match(name[:-9]):
            currencies[_custom_key(name[:-9], custom)] = value
        else:
            values[name] = value
    values["custom_fields"] = {
        key: custom_value(custom[key], value, version, currencies.get(key))
        for key, value in custom_values.items()
    }
    _check_ids(values, version)
    if version == 2:
        _check_v2_types(kind, values)
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


def _check_ids(values: dict[str, Any], version: int) -> None:
    for name in _ID_FIELDS:
        value = values.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            # v1 reads a numeric string as the number; v2 validates types strictly
            if version == 1 and isinstance(value, str) and value.isdigit():
                values[name] = int(value)
            else:
                raise PipedriveError(400, f"Invalid {name}: must be an integer")


# v2 standard fields and the JSON type each must have (PD-V2 request bodies).
_V2_INTEGERS = ("visible_to", "pipeline_id", "stage_id", "creator_user_id")
_V2_NUMBERS = ("value", "probability")
_V2_BOOLEANS = ("done", "busy")


def _check_v2_types(kind: Kind, values: dict[str, Any]) -> None:
    for name in _V2_INTEGERS:
        if values.get(name) is not None and not _is_int(values[name]):
            raise PipedriveError(400, f"Invalid {name}: must be an integer")
    for name in _V2_NUMBERS:
        if kind is not LEAD and values.get(name) is not None and not _is_number(values[name]):
            raise PipedriveError(400, f"Invalid {name}: must be a number")
    for name in _V2_BOOLEANS:
        if values.get(name) is not None and not isinstance(values[name], bool):
            raise PipedriveError(400, f"Invalid {name}: must be a boolean")
    if values.get("label_ids") is not None and not (
        isinstance(values["label_ids"], list) and all(_is_int(i) for i in values["label_ids"])
    ):
        raise PipedriveError(400, "Invalid label_ids: must be an array of integers")


def custom_value(definition: dict[str, Any], value: Any, version: int, currency: Any) -> Any:
    """A custom field value as stored: monetary ``{value, currency}``, enum an option id,
    set a list of option ids, double a number; PipedriveError(400) for a wrong type.

    v2 takes monetary as ``{value, currency}`` and set as an array of ids; v1 takes a
    bare amount (currency under ``<key>_currency``) and a set as ``"1,2"``.
    """
    if value is None:
        return None
    kind = definition["field_type"]
    invalid = PipedriveError(400, f"Invalid value for field '{definition['name']}'")
    options = {o["id"] for o in definition.get("options") or []}
    if kind == "double":
        if not _is_number(value):
            raise invalid
        return value
    if kind == "monetary":
        if version == 2:
            if not isinstance(value, dict) or not _is_number(value.get("value")):
                raise invalid
            currency = value.get("currency")
            value = value["value"]
        elif not _is_number(value):
            raise invalid
        if currency is not None and not (isinstance(currency, str) and len(currency) == 3):
            raise invalid
        return {"value": value, "currency": currency or "USD"}
    if kind == "enum":
        chosen = value if version == 2 else _v1_int(value)
        if not _is_int(chosen) or chosen not in options:
            raise invalid
        return chosen
    if kind == "set":
        if version == 1 and isinstance(value, str):
            value = [_v1_int(v) for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(_is_int(v) and v in options for v in value):
            raise invalid
        return list(value)
    if kind == "date" and not (isinstance(value, str) and _DATE.match(value)):
        raise invalid
    if kind in ("varchar", "varchar_auto", "text", "phone") and not isinstance(value, str):
        raise invalid
    return value


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _v1_int(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.strip().isdigit() else value


def _contact_lists(values: dict[str, Any], version: int) -> None:
    """v1 takes `email`/`phone` as a string, strings or objects; v2 takes `emails`/`phones`."""
    for v1_name, v2_name in (("email", "emails"), ("phone", "phones")):
        raw = values.pop(v1_name if version == 1 else v2_name, None)
        values.pop(v2_name if version == 1 else v1_name, None)
        if raw is None:
            continue
        if version == 2 and not (isinstance(raw, list) and all(isinstance(i, dict) for i in raw)):
            # v2 takes only arrays of {value, primary, label} objects
            raise PipedriveError(400, f"Invalid {v2_name}: must be an array of objects")
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
