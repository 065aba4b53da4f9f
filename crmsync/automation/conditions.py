"""The condition grammar: JSON data, evaluated against a context, never executed.

    {"all": [c, ...]}   {"any": [c, ...]}   {"not": c}
    {"field": "record.stage", "op": "eq", "value": "closedwon"}

``field`` is a dotted path into the context (``record.*``, ``changes.<field>.from|to``,
``event.type``, ``event.data.*``, ``source``); a missing path is ``None``. Operators:
``eq ne gt gte lt lte in not_in contains exists``. Comparisons of different types are
false, never an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

OPS: Final = frozenset({"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "exists"})
MAX_DEPTH: Final = 10
MAX_ITEMS: Final = 50


class ConditionInvalid(ValueError):
    """A condition outside the grammar; the message says where."""


def check(condition: Any, where: str = "when", depth: int = 0) -> None:
    """Refuse anything that is not the grammar (at save time, with the path of the fault)."""
    if depth > MAX_DEPTH:
        raise ConditionInvalid(f"{where}: nested deeper than {MAX_DEPTH}")
    if not isinstance(condition, Mapping):
        raise ConditionInvalid(f"{where}: a condition is a mapping")
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        if set(condition) != {key}:
            raise ConditionInvalid(f"{where}: '{key}' stands alone")
        items = condition[key]
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
            raise ConditionInvalid(f"{where}.{key}: a list of 1 to {MAX_ITEMS} conditions")
        for n, item in enumerate(items):
            check(item, f"{where}.{key}[{n}]", depth + 1)
        return
    if "not" in condition:
        if set(condition) != {"not"}:
            raise ConditionInvalid(f"{where}: 'not' stands alone")
        check(condition["not"], f"{where}.not", depth + 1)
        return
    unknown = set(condition) - {"field", "op", "value"}
    if unknown:
        raise ConditionInvalid(f"{where}: unknown keys {sorted(unknown)}")
    field, op = condition.get("field"), condition.get("op", "eq")
    if not isinstance(field, str) or not field or len(field) > 200:
        raise ConditionInvalid(f"{where}: 'field' is a dotted path such as record.stage")
    if op not in OPS:
        raise ConditionInvalid(f"{where}: op {op!r} is not one of {', '.join(sorted(OPS))}")
    if op in ("in", "not_in") and not isinstance(condition.get("value"), list):
        raise ConditionInvalid(f"{where}: '{op}' takes a list value")
    if op != "exists" and "value" not in condition:
        raise ConditionInvalid(f"{where}: '{op}' needs a value")


def lookup(context: Mapping[str, Any], path: str) -> Any:
    value: Any = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        else:
            return None
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    try:
        if op == "gt":
            return bool(left > right)
        if op == "gte":
            return bool(left >= right)
        if op == "lt":
            return bool(left < right)
        return bool(left <= right)
    except TypeError:
        return False


def holds(condition: Mapping[str, Any] | None, context: Mapping[str, Any]) -> bool:
    if not condition:
        return True
    if "all" in condition:
        return all(holds(c, context) for c in condition["all"])
    if "any" in condition:
        return any(holds(c, context) for c in condition["any"])
    if "not" in condition:
        return not holds(condition["not"], context)
    left = lookup(context, condition["field"])
    op, right = condition.get("op", "eq"), condition.get("value")
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "in":
        return isinstance(right, list) and left in right
    if op == "not_in":
        return isinstance(right, list) and left not in right
    if op == "contains":
        return isinstance(left, str | list) and right in left
    if op == "exists":
        return left not in (None, "", [], {})
    return left is not None and _compare(op, left, right)
