"""Benchmark databases: migrated SQLite or PostgreSQL, a workspace, an API key, bulk rows."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import _contacts
import psycopg
from psycopg import sql
from sqlalchemy import Engine, func, select, text

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.records.pagination import Cursor
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Contact
from crmsync.workspaces import create_workspace

PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
SQLITE_CHUNK = 50_000


class Unavailable(Exception):
    """The backend cannot be reached; the benchmark skips it."""


@dataclass(frozen=True)
class Store:
    backend: str
    url: str
    engine: Engine
    workspace_id: uuid.UUID
    api_key: str


@contextmanager
def sqlite_url(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'bench-records.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh schema in database ``test``, dropped afterwards."""
    schema = f"bench_records_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_DSN, autocommit=True)
    except psycopg.OperationalError as exc:
        raise Unavailable(str(exc).strip().splitlines()[0]) from None
    with admin:
        admin.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield PG_URL.format(schema=schema)
        finally:
            admin.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
            )


@contextmanager
def opened(backend: str, url: str) -> Iterator[Store]:
    """Migrate the database, make a workspace and an agent key (what an app integrates with)."""
    upgrade(url)
    engine = make_engine(url)
    try:
        with session_scope(make_sessionmaker(engine)) as session:
            workspace = create_workspace(session, "Benchmark")
            _key, api_key = create_api_key(session, workspace.id, Role.AGENT, name="bench")
        yield Store(backend, url, engine, workspace.id, api_key)
    finally:
        engine.dispose()


def analyze(store: Store) -> None:
    """Refresh planner statistics, as PostgreSQL's autovacuum would after this many changes.

    Without them a table filled since its last ANALYZE still looks empty to the planner,
    which then may look contacts up by id through ix_contacts_updated instead of the
    primary key: a full index scan per row.
    """
    if store.backend == "postgresql":
        with store.engine.begin() as conn:
            conn.execute(text("ANALYZE contacts"))
            conn.execute(text("ANALYZE change_log"))


def count_contacts(store: Store) -> int:
    stmt = (
        select(func.count()).select_from(Contact).where(Contact.workspace_id == store.workspace_id)
    )
    with store.engine.connect() as conn:
        return int(conn.scalar(stmt) or 0)


def bulk_load(store: Store, count: int, first: int) -> None:
    """Insert ``count`` contacts directly (not through the API): COPY on PostgreSQL."""
    rows = _contacts.rows(store.workspace_id, count, first)
    if store.backend == "postgresql":
        _copy(store, rows)
    else:
        _executemany(store, rows)
    with store.engine.begin() as conn:
        conn.execute(text("ANALYZE"))


def _executemany(store: Store, rows: Iterator[dict[str, object]]) -> None:
    """SQLite: the driver's executemany on values the column types have already converted."""
    columns = _contacts.COLUMNS
    table = Contact.__table__
    convert = [table.c[name].type.bind_processor(store.engine.dialect) for name in columns]
    statement = (
        f"INSERT INTO contacts ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    )
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        # A page cache big enough for the indexes keeps random-key inserts off the disk.
        cursor.execute("PRAGMA cache_size=-262144")
        while chunk := list(islice(rows, SQLITE_CHUNK)):
            cursor.executemany(
                statement,
                [
                    tuple(f(row[c]) if f else row[c] for f, c in zip(convert, columns, strict=True))
                    for row in chunk
                ],
            )
            raw.commit()
    finally:
        raw.close()


def _copy(store: Store, rows: Iterator[dict[str, object]]) -> None:
    columns = _contacts.COLUMNS
    statement = sql.SQL("COPY contacts ({}) FROM STDIN").format(
        sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = store.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert isinstance(driver, psycopg.Connection)
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        "{}" if name in ("custom_fields", "social_profiles") else row[name]
                        for name in columns
                    ]
                )
        driver.commit()
    finally:
        raw.close()


def cursor_after(store: Store, rows_in: int) -> str:
    """The list cursor a client holds after paging through ``rows_in`` contacts."""
    stmt = (
        select(Contact.updated_at, Contact.id)
        .where(Contact.workspace_id == store.workspace_id, Contact.deleted_at.is_(None))
        .order_by(Contact.updated_at, Contact.id)
        .offset(rows_in - 1)
        .limit(1)
    )
    with store.engine.connect() as conn:
        found = conn.execute(stmt).one()
    return Cursor(found.updated_at, found.id).encode()


def postgres_version() -> str | None:
    try:
        with psycopg.connect(PG_DSN) as conn:
            return str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except psycopg.OperationalError:
        return None
