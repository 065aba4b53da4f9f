"""Bulk inserts that skip SQLAlchemy's per-row work: one driver ``executemany`` per shape.

A batch of 1,000 new contacts writes 1,000 rows and their 1,000 ChangeLog rows; an update
batch one ChangeLog row per changed field. Through ``connection.execute
(insert(table), rows)`` SQLAlchemy inspects, groups and bind-processes every parameter of
every row, which took about half of the batch's time. Here the statement is compiled once
per (table, columns, dialect), each column's own bind processor is looked up once, and the
driver gets plain tuples (or dicts, for drivers with named parameters): the values stored
are exactly those the Core path stores, through the same type processors.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import JSON, Table, bindparam, insert, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

Processor = Callable[[Any], Any] | None
_MISSING = object()
# Memo keys of empty JSON values, stored alike whichever object holds them.
_EMPTY_DICT = ("{}",)
_EMPTY_LIST = ("[]",)


@dataclass(frozen=True)
class _Prepared:
    sql: str
    # Per statement parameter: (position in the caller's columns, or -1 for a column the
    # caller leaves to its default; the default's maker; the type's bind processor).
    params: tuple[tuple[int, Callable[[int], list[Any]] | None, Processor], ...]
    names: tuple[str, ...]
    named: bool  # the driver takes a dict per row (pyformat), not a sequence (qmark)


@dataclass(frozen=True)
class Write:
    """One driver executemany with its parameters already converted: ready to run."""

    sql: str
    params: list[Any]


_PREPARED: dict[tuple[str, str, tuple[str, ...], str, str], _Prepared] = {}
# The parameter an UPDATE's row is found by (its last value in the caller's rows).
_MATCH_ID = "match_id"


# Defaults that make an empty container: the rows of one statement may share one, since
# it is converted (to the same JSON) and never changed.
_EMPTY_MAKERS: tuple[Any, ...] = (dict, list)


def _default_maker(table: Table, name: str) -> Callable[[int], list[Any]]:
    """The column default a Core insert would apply to each of ``count`` rows that leave
    ``name`` out: ``maker(count)``."""
    default = table.c[name].default
    if default is None or not (default.is_scalar or default.is_callable):
        raise ValueError(f"{table.name}.{name} has no Python-side default; give a value")
    arg: Any = default.arg  # type: ignore[attr-defined]
    if default.is_scalar:
        return lambda count: [arg] * count
    if getattr(arg, "__wrapped__", None) in _EMPTY_MAKERS:  # one {} or [] for all
        return lambda count: [arg(None)] * count
    # SQLAlchemy wraps zero-argument callables to take a context
    return lambda count: [arg(None) for _ in range(count)]


def _prepare(kind: str, table: Table, columns: tuple[str, ...], dialect: Dialect) -> _Prepared:
    key = (kind, table.fullname, columns, dialect.name, dialect.driver)
    prepared = _PREPARED.get(key)
    if prepared is None:
        if kind == "insert":
            compiled = insert(table).compile(dialect=dialect, column_keys=list(columns))
            given = {name: i for i, name in enumerate(columns)}
            column_of = {name: name for name in columns} | {c.key: c.key for c in table.c}
        else:
            stmt = (
                update(table)
                .where(table.c.id == bindparam(_MATCH_ID))
                .values({c: bindparam(f"new_{c}") for c in columns})
            )
            compiled = stmt.compile(dialect=dialect)
            given = {f"new_{c}": i for i, c in enumerate(columns)} | {_MATCH_ID: len(columns)}
            column_of = {f"new_{c}": c for c in columns} | {_MATCH_ID: "id"}
        names = tuple(compiled.positiontup or compiled.binds)
        prepared = _Prepared(
            sql=compiled.string,
            params=tuple(
                (
                    given.get(name, -1),
                    None if name in given else _default_maker(table, name),
                    table.c[column_of[name]].type.dialect_impl(dialect).bind_processor(dialect),
                )
                for name in names
            ),
            names=names,
            named=not compiled.positional,
        )
        _PREPARED[key] = prepared
    return prepared


def _converted(values: list[Any], process: Processor) -> list[Any]:
    """One column's values through its bind processor, each value converted once.

    Batches repeat values heavily (one workspace, and one id and timestamp shared by the
    ChangeLog rows of each record), so results are memoised: by identity (the same
    object, alive in ``values`` for the whole call), strings by value, and the empty dict
    and list (every new record's ``custom_fields``) as such. Equality is not used for
    other types: ``1 == True == 1.0`` and equal instants in two zones are stored
    differently.
    """
    if process is None:
        return values
    memo: dict[Any, Any] = {}
    get = memo.get
    out: list[Any] = []
    append = out.append
    last: Any = _MISSING
    stored: Any = None
    for value in values:
        if value is not last:  # runs of one object (a record's id, its time) skip the memo
            kind = value.__class__
            if kind is str:
                key = value
            elif (kind is dict or kind is list) and not value:  # a new record's {} or []
                key = _EMPTY_DICT if kind is dict else _EMPTY_LIST
            else:
                key = id(value)
            stored = get(key, _MISSING)
            if stored is _MISSING:
                stored = memo[key] = process(value)
            last = value
        append(stored)
    return out


def _write(
    kind: str, session: Session, table: Table, columns: Sequence[str], rows: Sequence[Any]
) -> Write:
    prepared = _prepare(kind, table, tuple(columns), session.get_bind().dialect)
    stored_columns = [
        _converted([row[at] for row in rows] if make is None else make(len(rows)), process)
        for at, make, process in prepared.params
    ]
    params: list[Any] = list(zip(*stored_columns, strict=True))
    if prepared.named:
        params = [dict(zip(prepared.names, values, strict=True)) for values in params]
    return Write(prepared.sql, params)


def insert_write(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Write:
    """An INSERT of rows given as tuples of Python values in ``columns`` order.

    Values are converted by the columns' types exactly as a Core insert would (UUIDs,
    aware datetimes, JSON), and columns left out get their Python-side defaults.
    """
    return _write("insert", session, table, columns, rows)


def update_write(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Write:
    """An ``UPDATE … WHERE id = ?`` setting ``columns``; each row ends with the id after them."""
    return _write("update", session, table, columns, rows)


def run(session: Session, writes: Sequence[Write]) -> None:
    """Run converted writes back to back (on SQLite the write lock is held from the first)."""
    connection = session.connection()
    for write in writes:
        if write.params:
            connection.exec_driver_sql(write.sql, write.params)


def insert_tuples(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert rows given as tuples in ``columns`` order, in one executemany."""
    if rows:
        run(session, [insert_write(session, table, columns, rows)])


def insert_writes(session: Session, table: Table, rows: list[dict[str, Any]]) -> list[Write]:
    """INSERTs of rows given as dicts; rows setting different columns go in separate ones."""
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    shape_of: dict[tuple[str, ...], tuple[str, ...]] = {}  # keys as made -> sorted
    for row in rows:
        keys = tuple(row)
        shape = shape_of.get(keys)
        if shape is None:
            shape = shape_of[keys] = tuple(sorted(keys))
        by_shape[shape].append(row)
    return [
        insert_write(session, table, columns, [[row[c] for c in columns] for row in group])
        for columns, group in by_shape.items()
    ]


def insert_rows(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows given as dicts; rows setting different columns go in separate statements."""
    run(session, insert_writes(session, table, rows))


def _json_text(value: Any) -> str | None:
    """A JSON value as text for a COPY (orjson; the stdlib for what orjson refuses, such
    as integers beyond 64 bits). jsonb keeps the value, not the text: the same as
    through the bind processor's ``json.dumps``."""
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def insert_copy(
    session: Session, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """On PostgreSQL, insert rows given as tuples in ``columns`` order with one ``COPY``
    (half the server's time of an executemany of 1,000 events, and a third of the
    client's); values go through the columns' bind processors and defaults as in
    ``insert_tuples`` (JSON through orjson: the same value stored).
    A unique violation is raised as SQLAlchemy's ``IntegrityError``, as an INSERT's is.
    Elsewhere it is ``insert_tuples``."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        insert_tuples(session, table, columns, rows)
        return
    prepared = _prepare("insert", table, tuple(columns), dialect)
    quote = dialect.identifier_preparer.quote
    sql = (
        f"COPY {dialect.identifier_preparer.format_table(table)} "
        f"({', '.join(quote(table.c[key].name) for key in prepared.names)}) FROM STDIN"
    )
    converted = [
        _converted(
            [row[at] for row in rows] if make is None else make(len(rows)),
            # the bind processor's json.dumps was a tenth of a bus batch's CPU
            _json_text if isinstance(table.c[name].type.dialect_impl(dialect), JSON) else process,
        )
        for (at, make, process), name in zip(prepared.params, prepared.names, strict=True)
    ]
    driver: Any = session.connection().connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for values in zip(*converted, strict=True):
                copy.write_row(values)
    except driver.IntegrityError as exc:
        raise IntegrityError(sql, None, exc) from exc
