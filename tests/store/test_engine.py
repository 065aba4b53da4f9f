"""Record ids and SQLite's write-ahead-log checkpoints."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from crmsync.store.base import new_id
from crmsync.store.engine import Checkpointer, make_engine
from tests.e2e.waiting import PATIENCE


def test_ids_are_uuid7_in_creation_order() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(1000)]
    assert {i.version for i in [first, *later]} == {7}
    assert {i.variant for i in later} == {"specified in RFC 4122"}
    assert all(first < i for i in later)  # a later millisecond sorts after
    assert len(set(later)) == len(later)
    # inside one millisecond too: 1,000 ids take a few, so most share theirs with others
    assert later == sorted(later)
    assert {i.int >> 80 for i in later} <= {time.time_ns() // 1_000_000 - n for n in range(5000)}


def test_commits_are_checkpointed_off_the_committing_connection(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE t (v TEXT)"))
        size_before = path.stat().st_size
        with engine.begin() as conn:  # ~2 MB: well under the autocheckpoint threshold
            conn.execute(text("INSERT INTO t VALUES (:v)"), [{"v": "x" * 1000}] * 2000)
        deadline = time.monotonic() + PATIENCE  # the checkpoint thread may wait for a busy CPU
        while path.stat().st_size < size_before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        # the rows reached the database file without anyone asking for a checkpoint
        assert path.stat().st_size >= size_before + 1_000_000
    finally:
        engine.dispose()


def test_the_checkpoint_thread_stops_when_idle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Checkpointer, "IDLE", 0.1)
    path = tmp_path / "i.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        for _ in range(2):
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE IF NOT EXISTS t (v TEXT)"))
            assert _checkpoint_threads(path) == 1
            deadline = time.monotonic() + PATIENCE
            while _checkpoint_threads(path) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _checkpoint_threads(path) == 0  # and the next commit starts one again
    finally:
        engine.dispose()


def test_a_commit_landing_after_its_checkpoint_is_still_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A commit is announced before it lands; on a busy machine the checkpoint it asked for
    # can run first. Here that order is forced: the checkpoint runs, then the rows land.
    monkeypatch.setattr(Checkpointer, "IDLE", 5.0)  # the rows land well within it
    path = tmp_path / "late.db"
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies pages
        writer.execute("CREATE TABLE t (v TEXT)")
        checkpointer = Checkpointer(str(path))
        checkpointer.committed()  # announced ...
        time.sleep(Checkpointer.DELAY + 0.3)  # ... its checkpoint has run ...
        size_before = path.stat().st_size
        writer.execute("BEGIN")
        writer.executemany("INSERT INTO t VALUES (?)", [("x" * 1000,)] * 2000)
        writer.execute("COMMIT")  # ... and only now the rows land, with no commit after them
        deadline = time.monotonic() + PATIENCE
        while path.stat().st_size < size_before + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert path.stat().st_size >= size_before + 1_000_000
        deadline = time.monotonic() + PATIENCE
        while _checkpoint_threads(path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _checkpoint_threads(path) == 0  # and with nothing more to copy, it stops
    finally:
        writer.close()


def _checkpoint_threads(path: Path) -> int:
    name = f"sqlite-checkpoint {path}"
    return sum(t.name == name and t.is_alive() for t in threading.enumerate())
