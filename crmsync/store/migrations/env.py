"""Alembic environment: the URL comes from crmsync's settings unless the caller set one."""

from alembic import context
from sqlalchemy import Connection

import crmsync.store.models  # noqa: F401  (registers every table)
from crmsync.config import get_settings
from crmsync.store.base import Base
from crmsync.store.engine import make_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("crmsync migrations run online only: use `crmsync migrate`")
run_migrations_online()
