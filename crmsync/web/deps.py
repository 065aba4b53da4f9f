"""What the pages need from the app: a database session per request, the settings, and
how connectors reach the network. (The web app does not import the API package: the
API's app factory mounts it.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from crmsync.config import Settings
from crmsync.integrations.connection import Wiring


def get_db(request: Request) -> Iterator[Session]:
    """A session per request; each page commits its own unit of work."""
    with request.app.state.sessionmaker() as session:
        yield session


Db = Annotated[Session, Depends(get_db)]


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def wiring_of(request: Request) -> Wiring:
    """Tests may give the app a wiring of their own (``app.state.connector_wiring``)."""
    wiring = getattr(request.app.state, "connector_wiring", None)
    return wiring if isinstance(wiring, Wiring) else Wiring()


def attachment(filename: str) -> str:
    """``Content-Disposition`` of a download: ASCII ``filename`` and UTF-8 ``filename*``."""
    fallback = re.sub(r'[^\x20-\x7e]|["\\]', "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
