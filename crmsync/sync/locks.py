"""A lock per (integration, object type) for polling: at most one poll of the same
stream at a time, across threads (in-process) and across hosts (PostgreSQL advisory
locks on a connection held for the poll)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

_local: dict[tuple[uuid.UUID, str], threading.Lock] = {}
_local_guard = threading.Lock()


def _key(integration_id: uuid.UUID, object_type: str) -> int:
    digest = hashlib.sha256(f"poll:{integration_id}:{object_type}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def poll_lock(engine: Engine, integration_id: uuid.UUID, object_type: str) -> Iterator[bool]:
    """Yields whether this caller holds the lock; when False, someone else is polling."""
    with _local_guard:
        lock = _local.setdefault((integration_id, object_type), threading.Lock())
    if not lock.acquire(blocking=False):
        yield False
        return
    try:
        if engine.dialect.name != "postgresql":
            yield True
            return
        key = _key(integration_id, object_type)
        with engine.connect() as conn:
            held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
            try:
                yield held
            finally:
                if held:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                conn.commit()
    finally:
        lock.release()
