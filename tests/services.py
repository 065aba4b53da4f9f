"""Reach the local PostgreSQL and Redis, or explain in one line why a test is skipped.

With ``CRMSYNC_REQUIRE_SERVICES=1`` (CI) a missing service fails the test instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

PG_URL = os.environ.get("CRMSYNC_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CRMSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def services_required() -> bool:
    return os.environ.get("CRMSYNC_REQUIRE_SERVICES") == "1"


def unavailable(what: str, why: Exception) -> None:
    message = f"{what} is not reachable ({type(why).__name__}: {why})".splitlines()[0]
    if services_required():
        pytest.fail(f"{message}; CRMSYNC_REQUIRE_SERVICES=1 says it must be", pytrace=False)
    pytest.skip(message)


def _pg_conninfo() -> str:
    return PG_URL.replace("postgresql+psycopg://", "postgresql://")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema for one test session; yields a URL that uses it."""
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        conn = psycopg.connect(_pg_conninfo(), autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        unavailable("PostgreSQL", exc)
    with conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG_URL else "?"
        try:
            yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
