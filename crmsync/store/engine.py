"""Engines and sessions. SQLite gets WAL, foreign keys and a busy timeout on every connection."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from crmsync.config import get_settings

# A committing connection copies the write-ahead log into the database file itself once
# the log passes this many pages; the checkpointer below normally does it first.
WAL_AUTOCHECKPOINT_PAGES = 8192  # 32 MiB
CACHE_KIB = 65536  # a 1,000-record batch dirties a few MiB: keep it in memory until commit


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()


class Checkpointer:
    """Copies committed pages from SQLite's write-ahead log into the database, off the request.

    By default the connection whose commit takes the log past 1,000 pages checkpoints
    it inside that commit: a batch of 1,000 new contacts then spends about a third of its
    time there. Here a thread of its own runs a passive checkpoint shortly after commits
    (sqlite releases the GIL while it copies), which never blocks readers or writers.
    The thread stops after a while without commits and starts again with the next one; before
    it stops it looks once more, for a commit that landed after the checkpoint it asked for.
    """

    DELAY = 0.02  # seconds after a commit is announced: it has usually landed by then
    IDLE = 5.0  # seconds without commits before the thread stops

    def __init__(self, database: str) -> None:
        self._database = database
        self._due = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def committed(self, *_args: Any) -> None:
        self._due.set()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"sqlite-checkpoint {self._database}", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, check_same_thread=False)
        try:
            last: tuple[int, int] | None = None
            while True:
                if not self._due.wait(self.IDLE):
                    # Quiet for a while. A commit announces itself before it lands, so the
                    # checkpoint it asked for may have run too early: look once more, and
                    # stop only when the log has not moved since the last look.
                    seen = self._checkpoint(connection)
                    if seen != last:
                        last = seen
                        continue
                    with self._lock:
                        if not self._due.is_set():
                            self._thread = None
                            return
                    continue
                time.sleep(self.DELAY)
                self._due.clear()
                last = self._checkpoint(connection)
        finally:
            connection.close()

    @staticmethod
    def _checkpoint(connection: sqlite3.Connection) -> tuple[int, int] | None:
        """A passive checkpoint; the log's size and how much of it is in the database, in frames."""
        try:
            _busy, log, done = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:  # busy or gone: the next commit, or the next look, asks again
            return None
        return int(log), int(done)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            event.listen(engine, "commit", Checkpointer(database).committed)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@lru_cache
def default_engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.sql_echo)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block ends cleanly; for CLI commands and jobs."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
