"""Where crmsync keeps things: the database every command uses, and the data directory.

One resolution for every command and the demo: ``--database-url``, else
``CRMSYNC_DATABASE_URL``, else ``sqlite:///./crmsync.db``. Files crmsync writes (uploads,
error reports) go to ``CRMSYNC_DATA_DIR``, else a directory next to a SQLite database
file, else the user's data directory: never the directory a command happens to run in.

Standard library only: ``crmsync --help`` reads it without loading SQLAlchemy.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "DATABASE_ENV",
    "DATA_DIR_ENV",
    "DEFAULT_DATABASE_URL",
    "data_dir_for",
    "database_url",
    "shown",
    "sqlite_file",
]

DATABASE_ENV = "CRMSYNC_DATABASE_URL"
DATA_DIR_ENV = "CRMSYNC_DATA_DIR"
DEFAULT_DATABASE_URL = "sqlite:///./crmsync.db"
# beside crmsync.db: crmsync.db-data/ (.gitignore covers *.db-data/)
DATA_SUFFIX = "-data"

_SQLITE_FILE = re.compile(r"^sqlite(?:\+\w+)?:///(?P<path>[^?]+)")
_PASSWORD = re.compile(r"(?P<user>//[^:/@]+:)[^@]*@")


def database_url(explicit: str | None = None) -> str:
    """The database a command uses: the option, else the environment, else the default."""
    return explicit or os.environ.get(DATABASE_ENV) or DEFAULT_DATABASE_URL


def shown(url: str) -> str:
    """The URL as printed: the password masked."""
    return _PASSWORD.sub(r"\g<user>***@", url)


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (``None``: another database, or SQLite in memory)."""
    match = _SQLITE_FILE.match(url)
    if match is None or match["path"] == ":memory:":
        return None
    return Path(match["path"])


def data_dir_for(url: str, explicit: str | Path | None = None) -> Path:
    """Where uploads and reports go: the setting, else beside the SQLite file, else the
    user's data directory (``$XDG_DATA_HOME/crmsync``, ``~/.local/share/crmsync``)."""
    chosen = explicit or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen)
    database = sqlite_file(url)
    if database is not None:
        return database.resolve().with_name(database.name + DATA_SUFFIX)
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "crmsync"
