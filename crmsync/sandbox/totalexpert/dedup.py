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
    """The normalised values of `rule`'s fields, or None when one is missing or blank."""
    key = []
    for name in rule:
        value = contact.get(name)
        if value is None:
            return None
        text = _norm(name, value)
        if not text:
            return None
        key.append(text)
    return tuple(key)


def find_duplicate(
    incoming: Mapping[str, Any], existing: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The existing contact (each with an `id`) that `incoming` duplicates, or None."""
    index, by_id = DedupIndex(), {}
    for contact in existing:
        index.put(contact["id"], contact)
        by_id[contact["id"]] = contact
    found = index.find(incoming)
    return None if found is None else by_id[found]


def keys(contact: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Every match key of a contact: ("ext", source, id) and (rule number, values...)."""
    out = _external(contact)
    for number, rule in enumerate(RULES):
        key = rule_key(contact, rule)
        if key is not None:
            out.append((number, *key))
    return out


def _external(contact: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [("ext", *pair) for pair in external_keys(contact)]


# Fields whose change can change a contact's match keys.
KEY_FIELDS = frozenset({"external_ids", "external_id"}.union(*RULES))


class DedupIndex:
    """`find_duplicate` in O(rules) per lookup: match keys -> ids of the contacts having them.

    Among several contacts sharing a key the oldest (lowest id) wins, as a scan in id
    order would pick it.
    """

    def __init__(self) -> None:
        self._ids: dict[tuple[Any, ...], set[int]] = {}
        self._keys: dict[int, list[tuple[Any, ...]]] = {}

    def put(self, contact_id: int, contact: Mapping[str, Any]) -> None:
        self.drop(contact_id)
        self._keys[contact_id] = keys(contact)
        for key in self._keys[contact_id]:
            self._ids.setdefault(key, set()).add(contact_id)

    def drop(self, contact_id: int) -> None:
        for key in self._keys.pop(contact_id, []):
            holders = self._ids[key]
            holders.discard(contact_id)
            if not holders:
                del self._ids[key]

    def find(self, incoming: Mapping[str, Any]) -> int | None:
        external = [self._ids[k] for k in _external(incoming) if k in self._ids]
        if external:
            return min(min(ids) for ids in external)
        for number, rule in enumerate(RULES):  # rule keys only as far as needed
            key = rule_key(incoming, rule)
            if key is not None and (number, *key) in self._ids:
                return min(self._ids[(number, *key)])
        return None

    def clear(self) -> None:
        self._ids.clear()
        self._keys.clear()
