"""Running a parsed SOQL query against the store.

Child sub-queries (``SELECT Name, (SELECT LastName FROM Contacts) FROM Account``) run
per parent row and render as a nested query result, or null when no child matches.

`run_query` checks the statement against the schema (INVALID_TYPE, INVALID_FIELD with
Salesforce's pointer text), filters with SOQL semantics (string comparisons ignore
case; null only matches ``= null``/``!= null``), sorts (ascending puts nulls first),
applies OFFSET/LIMIT and renders the selected fields in the order asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from crmsync.sandbox.salesforce import errors
from crmsync.sandbox.salesforce.columns import Column, render, resolve
from crmsync.sandbox.salesforce.ids import to18
from crmsync.sandbox.salesforce.schema import Field, SObjectType
from crmsync.sandbox.salesforce.soql import (
    Comparison,
    Condition,
    FieldRef,
    Junction,
    Literal,
    Negation,
    Query,
    pointer,
)
from crmsync.sandbox.salesforce.store import OrgStore, Record

Predicate = Callable[[Record], bool]
_TEXT = {"string", "email", "phone", "url", "textarea", "picklist", "combobox", "id", "reference"}
_NUMBER = {"double", "currency", "percent", "int"}
_IDS = {"id", "reference"}
# Which literal kinds each field type accepts (besides null).
_ACCEPTS = {"boolean": {"boolean"}, "datetime": {"datetime", "range"}, "date": {"date", "range"}}
_WRONG_TYPE = (
    "value of filter criterion for field '{name}' must be of type {type} and "
    "should not be enclosed in quotes"
)


def run_query(
    store: OrgStore, query: Query, version: str, include_deleted: bool
) -> tuple[int, list[dict[str, Any]]]:
    """(totalSize, rendered records) of `query`; COUNT() gives no records."""
    kind = _sobject(store, query)
    children = [_child(store, kind, child) for child in query.children]
    with store.lock:
        rows = list(store.rows(kind.name, include_deleted))
        total, selected, rendered = _run(store, kind, query, version, rows)
        if query.count:
            return total, []
        for child_kind, lookup, child_query in children:
            key = child_kind.label_plural
            for row, out in zip(selected, rendered, strict=True):
                mine = [r for r in store.rows(child_kind.name) if r.get(lookup) == row["Id"]]
                size, _, records = _run(store, child_kind, child_query, version, mine)
                out[key] = (
                    {"totalSize": size, "done": True, "records": records} if records else None
                )
        return total, rendered


def _run(
    store: OrgStore, kind: SObjectType, query: Query, version: str, rows: list[Record]
) -> tuple[int, list[Record], list[dict[str, Any]]]:
    """Filter, sort, page and render `rows` of `kind` as `query` says."""

    def column(ref: FieldRef) -> Column:
        return resolve(kind, store, query.text, ref)

    selected = [column(ref) for ref in query.fields]
    names = [c.name for c in selected]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise errors.malformed_query(f"duplicate field selected: {duplicate}")
    test = _compile(store, column, query, query.where) if query.where else None
    order = [(column(item.field), item) for item in query.order]
    for found, item in order:
        _check_usable(found.field, query, item.field, "sorted")
    rows = [r for r in rows if test is None or test(r)]
    for found, item in reversed(order):
        rows.sort(
            key=_sort_key(store, found, item.nulls_last, item.descending),
            reverse=item.descending,
        )
    rows = rows[query.offset or 0 :]
    if query.limit is not None:
        rows = rows[: query.limit]
    if query.count:
        return len(rows), rows, []
    return len(rows), rows, [render(store, kind, selected, row, version) for row in rows]


def _child(store: OrgStore, parent: SObjectType, child: Query) -> tuple[SObjectType, str, Query]:
    """The child object, its lookup to `parent` and the sub-query, for ``(SELECT … FROM
    Contacts)`` on Account: the relationship name is the child's plural label."""
    name = child.sobject.name.lower()
    for kind in store.objects.values():
        lookup = next(
            (
                f.name
                for f in kind.fields
                if f.type == "reference" and f.reference_to == (parent.name,)
            ),
            None,
        )
        if lookup is not None and kind.label_plural.lower() == name:
            return kind, lookup, replace(child, sobject=FieldRef(kind.name, child.sobject.pos))
    raise errors.ApiError(
        400,
        "INVALID_TYPE",
        pointer(
            child.text,
            child.sobject.pos,
            f"Didn't understand relationship '{child.sobject.name}' in FROM part of query "
            "call. If you are attempting to use a custom relationship, be sure to append the "
            "'__r' after the custom relationship name. Please reference your WSDL or the "
            "describe call for the appropriate names.",
        ),
    )


def _sobject(store: OrgStore, query: Query) -> SObjectType:
    try:
        return store.sobject(query.sobject.name)
    except errors.ApiError:
        raise errors.ApiError(
            400,
            "INVALID_TYPE",
            pointer(
                query.text,
                query.sobject.pos,
                f"sObject type '{query.sobject.name}' is not supported. If you are "
                "attempting to use a custom object, be sure to append the '__c' after the "
                "entity name. Please reference your WSDL or the describe call for the "
                "appropriate names.",
            ),
        ) from None


Resolver = Callable[[FieldRef], Column]
Getter = Callable[[Record], Any]


def _compile(store: OrgStore, column: Resolver, query: Query, cond: Condition) -> Predicate:
    if isinstance(cond, Junction):
        parts = [_compile(store, column, query, p) for p in cond.parts]
        if cond.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    if isinstance(cond, Negation):
        inner = _compile(store, column, query, cond.part)
        return lambda r: not inner(r)
    return _comparison(store, column(cond.field), query, cond)


def _getter(store: OrgStore, col: Column) -> Getter:
    if col.via is None:
        name = col.field.name
        return lambda r: r.get(name)
    return lambda r: col.value(store, r)


def _comparison(store: OrgStore, col: Column, query: Query, cond: Comparison) -> Predicate:
    found = col.field
    _check_usable(found, query, cond.field, "filtered")
    get = _getter(store, col)
    literals = cond.value if isinstance(cond.value, tuple) else (cond.value,)
    for literal in literals:
        _check_type(found, query, literal)
    if found.type in _IDS:
        # SOQL takes 15-character ids as well as 18-character ones.
        literals = tuple(_id18(literal) for literal in literals)
        many = cond.op in ("IN", "NOT IN")
        cond = Comparison(cond.field, cond.op, literals if many else literals[0])
    if cond.op == "LIKE":
        if found.type not in _TEXT or not isinstance(cond.value, Literal):
            raise errors.ApiError(
                400,
                "INVALID_QUERY_FILTER_OPERATOR",
                pointer(query.text, cond.field.pos, f"invalid operator on {found.type} field"),
            )
        pattern = _like(str(cond.value.value))
        return lambda r: (v := get(r)) is not None and bool(pattern.match(str(v)))
    if cond.op in ("IN", "NOT IN"):
        wanted = {_norm(found, lit) for lit in literals}
        if cond.op == "IN":
            return lambda r: (v := get(r)) is not None and _norm_value(v) in wanted
        return lambda r: (v := get(r)) is None or _norm_value(v) not in wanted
    (literal,) = literals
    if literal.kind == "null":
        if cond.op not in ("=", "!="):
            return lambda r: False
        is_eq = cond.op == "="
        return lambda r: (get(r) is None) == is_eq
    if literal.kind == "range":
        return _range_test(get, cond.op, literal.value)
    target = _norm(found, literal)
    compare = _OPS[cond.op]
    if cond.op == "!=":
        return lambda r: (v := get(r)) is None or compare(_norm_value(v), target)
    return lambda r: (v := get(r)) is not None and compare(_norm_value(v), target)


def _check_usable(found: Field, query: Query, ref: FieldRef, use: str) -> None:
    if not found.filterable:
        raise errors.invalid_field(
            pointer(
                query.text,
                ref.pos,
                f"field '{found.name}' can not be {use} in a query call",
            )
        )


def _id18(literal: Literal) -> Literal:
    value = literal.value
    if literal.kind == "string" and isinstance(value, str) and len(value) == 15:
        return replace(literal, value=to18(value))
    return literal


def _check_type(found: Field, query: Query, literal: Literal) -> None:
    if literal.kind == "null":
        return
    if found.type in _ACCEPTS:
        ok = literal.kind in _ACCEPTS[found.type]
        wanted = {"datetime": "dateTime"}.get(found.type, found.type)
    elif found.type in _NUMBER:
        ok, wanted = literal.kind == "number", "number"
    else:
        ok, wanted = literal.kind == "string", "string"
    if not ok:
        raise errors.invalid_field(
            pointer(query.text, literal.pos, _WRONG_TYPE.format(name=found.name, type=wanted))
        )


def _norm(found: Field, literal: Literal) -> Any:
    value = literal.value
    if found.type == "date" and isinstance(value, datetime):
        return value.date()
    return _norm_value(value)


def _norm_value(value: Any) -> Any:
    # SOQL compares text without regard to case.
    return value.casefold() if isinstance(value, str) else value


def _range_test(get: Getter, op: str, span: tuple[datetime, datetime]) -> Predicate:
    start, end = span

    def test(record: Record) -> bool:
        value = get(record)
        if value is None:
            return op == "!="
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(), tzinfo=UTC)
        inside = start <= value < end
        return {
            "=": inside,
            "!=": not inside,
            "<": value < start,
            "<=": value < end,
            ">": value >= end,
            ">=": value >= start,
        }[op]

    return test


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _like(pattern: str) -> re.Pattern[str]:
    out = ""
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            out += re.escape(pattern[index + 1])
            index += 2
            continue
        out += ".*" if char == "%" else "." if char == "_" else re.escape(char)
        index += 1
    return re.compile(out + r"\Z", re.IGNORECASE | re.DOTALL)


def _sort_key(
    store: OrgStore, col: Column, nulls_last: bool, descending: bool
) -> Callable[[Record], Any]:
    # With reverse=True the null flag flips, so compute it against the final direction.
    null_rank = 1 if nulls_last != descending else 0
    get = _getter(store, col)

    def key(record: Record) -> tuple[int, Any]:
        value = get(record)
        if value is None:
            return (null_rank, 0)
        return (1 - null_rank, _norm_value(value))

    return key
