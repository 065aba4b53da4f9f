"""Property definitions per object type, and validation of written values.

HubSpot stores every property value as a string; datetimes are accepted as epoch
milliseconds or ISO-8601 and answered as ISO-8601 (UTC, milliseconds, ``Z``).
Invalid writes answer VALIDATION_ERROR with the per-property list HubSpot embeds in
its message (``PROPERTY_DOESNT_EXIST``, ``READ_ONLY_VALUE``, ``INVALID_OPTION``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from crmsync.sandbox.hubspot.owners import ACTIVE_OWNER_IDS
from crmsync.sandbox.hubspot.schema import BUILTIN, OBJECTS, SYSTEM, UNIQUE
from crmsync.sandbox.timefmt import iso_ms, to_ms

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TYPES = {"string", "number", "date", "datetime", "enumeration", "bool"}
EPOCH = "1970-01-01T00:00:00Z"
DAY_MS = 86_400_000


@dataclass
class PropertyDef:
    """One property of one object type."""

    name: str
    type: str
    field_type: str
    group: str
    label: str = ""
    description: str = ""
    options: tuple[str, ...] = ()
    option_labels: dict[str, str] = field(default_factory=dict)  # value -> label
    unique: bool = False
    hubspot_defined: bool = True
    read_only: bool = False
    created_ms: int = 0
    archived: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    plain: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        # free text: any string value is valid as is (the validation fast path)
        self.plain = self.type == "string" and not self.read_only and self.name != "email"

    def to_json(self) -> dict[str, Any]:
        """The `Property` object of the properties API."""
        stamp = iso_ms(self.created_ms) if self.created_ms else EPOCH
        return {
            "name": self.name,
            "label": self.label or self.name.replace("_", " ").title(),
            "type": self.type,
            "fieldType": self.field_type,
            "description": self.description,
            "groupName": self.group,
            "options": [
                {
                    "label": self.option_labels.get(o, o),
                    "value": o,
                    "displayOrder": i,
                    "hidden": False,
                }
                for i, o in enumerate(self.options)
            ],
            "displayOrder": -1,
            "calculated": False,
            "externalOptions": False,
            "hasUniqueValue": self.unique,
            "hidden": False,
            "hubspotDefined": self.hubspot_defined,
            "modificationMetadata": {
                "archivable": not self.hubspot_defined,
                "readOnlyDefinition": self.hubspot_defined,
                "readOnlyValue": self.read_only,
            },
            "formField": not self.read_only,
            "createdAt": stamp,
            "updatedAt": stamp,
            "archived": self.archived,
            **self.extra,
        }


def builtin_properties(object_type: str) -> dict[str, PropertyDef]:
    """The built-in properties of an object type, fresh copies."""
    group = f"{OBJECTS[object_type].singular}information"
    defs = {
        name: PropertyDef(name, kind, ftype, group, read_only=True)
        for name, (kind, ftype) in SYSTEM.items()
    }
    for name, (kind, ftype), options in BUILTIN[object_type]:
        unique = name in UNIQUE.get(object_type, ())
        defs[name] = PropertyDef(name, kind, ftype, group, options=options, unique=unique)
    return defs


def invalid(name: str, code: str, message: str) -> dict[str, Any]:
    """One entry of the per-property error list."""
    return {
        "isValid": False,
        "message": message,
        "error": code,
        "name": name,
        "localizedErrorMessage": message,
    }


def invalid_message(problems: list[dict[str, Any]]) -> str:
    """HubSpot's message for invalid property values."""
    return "Property values were not valid: " + orjson.dumps(problems).decode()


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def clean_values(
    defs: Mapping[str, PropertyDef], values: Mapping[str, Any]
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Validated string values, and the problems found (empty when all is well)."""
    clean: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    for name, raw in values.items():
        prop = defs.get(name)
        if prop is None or prop.archived:
            problems.append(
                invalid(name, "PROPERTY_DOESNT_EXIST", f'Property "{name}" does not exist')
            )
            continue
        text = raw if type(raw) is str else _as_text(raw)
        if prop.plain:
            clean[name] = text
            continue
        problem = _check(prop, text)
        if problem is not None:
            problems.append(problem)
            continue
        if prop.type in ("datetime", "date") and text:
            ms = to_ms(text)
            text = iso_ms(ms) if ms is not None else text
            if prop.type == "date":
                text = text[:10]  # a date reads back as YYYY-MM-DD
        clean[name] = text
    return clean, problems


def _check(prop: PropertyDef, text: str) -> dict[str, Any] | None:
    name = prop.name
    if prop.read_only:
        return invalid(name, "READ_ONLY_VALUE", f'"{name}" is a read only property')
    if not text:
        return None
    # multi-select values are ';'-joined; every part must be an option
    if (
        prop.type == "enumeration"
        and prop.options
        and not set(text.split(";")) <= set(prop.options)
    ):
        return invalid(name, "INVALID_OPTION", f"{text} was not one of the allowed options")
    if prop.type == "bool" and text.lower() not in ("true", "false"):
        # a single checkbox holds "true" or "false", whatever its option labels say
        return invalid(name, "INVALID_OPTION", f"{text} was not one of the allowed options")
    if prop.type == "number" and not _is_number(text):
        return invalid(name, "INVALID_DECIMAL", f"{text} is not a valid number")
    if prop.type in ("datetime", "date"):
        ms = to_ms(text)
        if ms is None:
            return invalid(name, "INVALID_DATE", f"{text} is not a valid date")
        if prop.type == "date" and ms % DAY_MS:
            # date properties hold a day: HubSpot refuses any time but midnight UTC
            at = ms % DAY_MS
            clock = f"{at // 3_600_000}:{at // 60_000 % 60}:{at // 1000 % 60}.{at % 1000}"
            return invalid(name, "INVALID_DATE", f"{text} is at {clock} UTC, not midnight!")
    if name.endswith("owner_id") and prop.type == "enumeration" and text not in ACTIVE_OWNER_IDS:
        return invalid(name, "INVALID_OWNER_ID", f"{text} is not a valid owner id")
    if name == "email" and not EMAIL.match(text):
        return invalid(name, "INVALID_EMAIL", f"Email address {text} is invalid")
    return None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# Valid fieldType values of each property type (HubSpot "Properties" guide).
FIELD_TYPES: dict[str, frozenset[str]] = {
    "bool": frozenset({"booleancheckbox", "calculation_equation"}),
    "enumeration": frozenset(
        {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"}
    ),
    "date": frozenset({"date"}),
    "datetime": frozenset({"date"}),
    "string": frozenset({"text", "textarea", "file", "html", "phonenumber"}),
    "number": frozenset({"number", "calculation_equation"}),
}


def new_property(
    body: Mapping[str, Any], now_ms: int, groups: frozenset[str] = frozenset()
) -> tuple[PropertyDef | None, str]:
    """A custom property from a `PropertyCreate` body, or None and why not.

    `groups` are the object's property groups: a property must join one of them.
    Options need a label and a value and keep both as given.
    """
    name = body.get("name")
    kind = body.get("type")
    field_type = body.get("fieldType")
    if not isinstance(name, str) or not NAME.match(name):
        return None, "name must be lowercase letters, digits and underscores"
    if kind not in TYPES:
        return None, f"type must be one of {sorted(TYPES)}"
    if not field_type or not body.get("groupName") or not body.get("label"):
        return None, "label, fieldType and groupName are required"
    if field_type not in FIELD_TYPES[str(kind)]:
        allowed = ", ".join(sorted(FIELD_TYPES[str(kind)]))
        return None, f"fieldType {field_type} is not valid for type {kind} (use {allowed})"
    if groups and body["groupName"] not in groups:
        return None, f"property group {body['groupName']} does not exist"
    raw_options = body.get("options") or []
    if not isinstance(raw_options, list) or not all(
        isinstance(o, dict) and o.get("label") not in (None, "") and o.get("value") is not None
        for o in raw_options
    ):
        return None, "every option needs a label and a value"
    options = tuple(str(o["value"]) for o in raw_options)
    if len(set(options)) != len(options):
        return None, "option values must be unique"
    if kind in ("enumeration", "bool") and not options:
        return None, f"{kind} properties need options"
    prop = PropertyDef(
        name=name,
        type=str(kind),
        field_type=str(field_type),
        group=str(body["groupName"]),
        label=str(body["label"]),
        description=str(body.get("description") or ""),
        options=options,
        option_labels={str(o["value"]): str(o["label"]) for o in raw_options},
        unique=bool(body.get("hasUniqueValue")),
        hubspot_defined=False,
        created_ms=now_ms,
    )
    return prop, ""
