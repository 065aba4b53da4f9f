"""Dotted paths into nested records (``address.city``, ``custom_fields.loan_type``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final


class _Missing:
    """Marker for a path that is absent (unlike a present ``None``)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def get_path(record: Mapping[str, Any], path: str) -> Any:
    """Value at ``path``; ``MISSING`` when any step is absent or not a mapping.

    A key that itself contains dots (``"a.b"`` at top level) wins over nesting, so flat
    remote records with dotted property names still resolve.
    """
    if path in record:
        return record[path]
    node: Any = record
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return node


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set ``path`` in ``record``, creating intermediate dicts as needed."""
    parts = path.split(".")
    node = record
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
