"""Bus sources in the store: what the API lists, pauses and resumes, and what consumers
report to. Functions take the caller's session and never commit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crmsync.bus.spec import SourceSpec, kind_of, masked
from crmsync.store.models import BusSource, BusSourceStatus


def list_sources(session: Session, workspace_id: uuid.UUID) -> list[BusSource]:
    return list(
        session.scalars(
            select(BusSource).where(BusSource.workspace_id == workspace_id).order_by(BusSource.name)
        )
    )


def get_source(session: Session, workspace_id: uuid.UUID, source_id: uuid.UUID) -> BusSource | None:
    source = session.get(BusSource, source_id)
    return source if source is not None and source.workspace_id == workspace_id else None


def save_source(
    session: Session,
    workspace_id: uuid.UUID,
    name: str,
    url: str,
    stream: str,
    group: str = "crmsync",
    *,
    enabled: bool | None = True,
) -> BusSource:
    """Create the workspace's source of this name, or point it at ``url``/``stream``.

    ``enabled=None``: a new source is not run by the worker, an existing one keeps its
    setting (``crmsync consume --workspace`` registers itself so).
    """
    kind_of(url)  # refuse what no consumer could run
    source = session.scalar(
        select(BusSource).where(BusSource.workspace_id == workspace_id, BusSource.name == name)
    )
    if source is None:
        source = BusSource(workspace_id=workspace_id, name=name, stored=0, duplicates=0)
        source.dead_lettered = 0
        session.add(source)
    source.url, source.stream, source.group = url, stream, group
    if enabled is not None:
        source.enabled = enabled
    elif source.enabled is None:  # new
        source.enabled = False
    session.flush()
    return source


def set_paused(
    session: Session, workspace_id: uuid.UUID, source_id: uuid.UUID, paused: bool
) -> BusSource | None:
    source = get_source(session, workspace_id, source_id)
    if source is not None:
        source.paused = paused
        if source.status in (BusSourceStatus.RUNNING, BusSourceStatus.PAUSED):
            source.status = BusSourceStatus.PAUSED if paused else BusSourceStatus.RUNNING
    return source


def enabled_specs(session: Session, **options: Any) -> list[SourceSpec]:
    """The configured sources a worker runs."""
    rows = session.scalars(select(BusSource).where(BusSource.enabled.is_(True)))
    return [spec_of(row, **options) for row in rows]


def spec_of(row: BusSource, **options: Any) -> SourceSpec:
    return SourceSpec(
        url=row.url,
        stream=row.stream,
        group=row.group,
        workspace_id=row.workspace_id,
        name=row.name,
        source_id=row.id,
        **options,
    )


def report(
    session: Session,
    source_id: uuid.UUID,
    *,
    counts: dict[str, int],
    lag: int | None,
    status: BusSourceStatus,
    error: str | None = None,
    last_message_at: datetime | None = None,
) -> bool:
    """Write a running consumer's status and count increments; True when paused."""
    values: dict[str, Any] = {
        "stored": BusSource.stored + counts.get("stored", 0),
        "duplicates": BusSource.duplicates + counts.get("duplicates", 0),
        "dead_lettered": BusSource.dead_lettered + counts.get("dead", 0),
        "heartbeat_at": datetime.now(UTC),
        "lag": lag,
        "last_error": error,
    }
    if last_message_at is not None:
        values["last_message_at"] = last_message_at
    session.execute(update(BusSource).where(BusSource.id == source_id).values(**values))
    paused = bool(session.scalar(select(BusSource.paused).where(BusSource.id == source_id)))
    shown = BusSourceStatus.PAUSED if paused and status == BusSourceStatus.RUNNING else status
    session.execute(update(BusSource).where(BusSource.id == source_id).values(status=shown))
    return paused


def describe(source: BusSource) -> dict[str, Any]:
    """The API's view of a source: the URL without its password."""
    return {
        "id": source.id,
        "name": source.name,
        "kind": kind_of(source.url).value,
        "url": masked(source.url),
        "stream": source.stream,
        "dead_letters": f"{source.stream}.dead",
        "group": source.group,
        "enabled": source.enabled,
        "paused": source.paused,
        "status": source.status,
        "last_error": source.last_error,
        "stored": source.stored,
        "duplicates": source.duplicates,
        "dead_lettered": source.dead_lettered,
        "lag": source.lag,
        "last_message_at": source.last_message_at,
        "heartbeat_at": source.heartbeat_at,
    }
