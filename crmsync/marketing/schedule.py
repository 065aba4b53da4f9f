"""The journey catalogue's scheduled refresh, run by the sync worker's inbound loop.

At most once a ``CHECK_EVERY``, every connected integration whose journeys are older
than its workspace's cache time (4 hours by default) is read again. Only integrations
already in the catalogue are (its first import is a read of ``/api/v1/journeys`` or a
refresh on demand), so a workspace that does no marketing sees no journey calls. An
integration whose CRM failed is not asked again before its cache time has passed.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.marketing import journeys, settings
from crmsync.store.models import Integration, IntegrationStatus, Journey

log = structlog.get_logger("crmsync.marketing")

__all__ = ["CHECK_EVERY", "JourneyRefresher"]

CHECK_EVERY = timedelta(minutes=1)


class JourneyRefresher:
    """Remembers when it last looked, and when each integration was last asked."""

    def __init__(self) -> None:
        self._checked: datetime | None = None
        self._asked: dict[uuid.UUID, datetime] = {}
        self._lock = threading.Lock()

    def run(
        self,
        session: Session,
        connector_of: Callable[[Integration], Connector],
        now: datetime | None = None,
    ) -> int:
        """Refresh what is due; how many integrations were read. Commits."""
        now = now or datetime.now(UTC)
        with self._lock:
            if self._checked is not None and now - self._checked < CHECK_EVERY:
                return 0
            self._checked = now
        in_catalogue = select(Journey.integration_id).distinct()
        rows = session.execute(
            select(Integration.id, Integration.workspace_id).where(
                Integration.status == IntegrationStatus.CONNECTED, Integration.id.in_(in_catalogue)
            )
        ).all()
        read = 0
        caches: dict[uuid.UUID, timedelta] = {}
        for integration_id, workspace_id in rows:
            if workspace_id not in caches:
                minutes = settings.load(session, workspace_id).journey_cache_minutes
                caches[workspace_id] = timedelta(minutes=minutes)
            asked = self._asked.get(integration_id)
            if asked is not None and now - asked < caches[workspace_id]:
                continue
            self._asked[integration_id] = now
            try:
                report = journeys.refresh(
                    session, workspace_id, connector_of, integration_id=integration_id, now=now
                )
                session.commit()
            except Exception:  # a background refresh must not stop the worker's loop
                session.rollback()
                log.exception("journey refresh failed", integration=str(integration_id))
                continue
            read += len(report.refreshed)
        return read
