"""Total Expert's contact de-duplication: which existing contact a POST updates.

Rules are tried in order; the first rule whose fields are all present on the incoming
contact and equal (case-insensitively) on an existing one picks it:
external ids -> first+last+email -> first+last+address/city/state/zip ->
first+last+home phone -> first+last+cell phone -> first+last+office phone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

RULES: tuple[tuple[str, ...], ...] = (
    ("first_name", "last_name", "email"),
    ("first_name", "last_name", "address", "city", "state", "zip_code"),
    ("first_name", "last_name", "phone_home"),
    ("first_name", "last_name", "phone_cell"),
    ("first_name", "last_name", "phone_office"),
)
_PHONE_FIELDS = ("phone_home", "phone_cell", "phone_office")
_DIGITS = re.compile(r"\D")


def _norm(name: str, value: Any) -> str:
    text = str(value).strip()
    return _DIGITS.sub("", text) if name in _PHONE_FIELDS else text.lower()


def external_keys(contact: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(source, external id) pairs of a contact, including its top-level external_id."""
    keys = set()
    for item in contact.get("external_ids") or []:
        if isinstance(item, Mapping) and item.get("external_id"):
            keys.add((str(item.get("source") or ""), str(item["external_id"])))
    if contact.get("external_id"):
        keys.add(("", str(contact["external_id"])))
    return keys


def rule_key(contact: Mapping[str, Any], rule: tuple[str, ...]) -> tuple[str, ...] | None:
    values = [contact.get(name) for name in rule]
    if any(v is None or str(v).strip() == "" for v in values):
        return None
    return tuple(_norm(name, v) for name, v in zip(rule, values, strict=True))


def find_duplicate(
    incoming: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The existing contact `incoming` duplicates, or None to create a new one."""
    candidates = list(existing)
    wanted = external_keys(incoming)
    if wanted:
        for contact in candidates:
            if wanted & external_keys(contact):
                return contact
    for rule in RULES:
        key = rule_key(incoming, rule)
        if key is None:
            continue
        for contact in candidates:
            if rule_key(contact, rule) == key:
                return contact
    return None
