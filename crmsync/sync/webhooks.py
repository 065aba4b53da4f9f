"""Receive CRM webhooks: verify, drop replays, store, and hand them to the worker.

A delivery is answered as soon as its events are stored (``crmsync.sync.intake`` commits
the deliveries that arrive together in one transaction). The worker treats stored events
as a signal to poll the changed object types at once (``drain_events``): many CRMs send
only ids, and the poll reads each changed record whole, with its cursor, exactly as a
scheduled poll would, so a webhook and a poll never disagree.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync import jsonlimits
from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConnectorError
from crmsync.connectors.http.ratelimit import MemoryWindows, WindowBackend
from crmsync.integrations.config import RateBudget
from crmsync.store.models import Integration, WebhookEvent
from crmsync.sync.intake import EventWriter, Received, UnknownIntegration

__all__ = ["UnknownIntegration", "WebhookMalformed", "WebhookReceiver", "WebhookRejected"]

log = structlog.get_logger("crmsync.sync.webhooks")


class WebhookRejected(Exception):
    """The delivery failed verification; nothing was stored."""


class WebhookThrottled(Exception):
    """The integration's webhook rate limit is spent; try again in ``retry_after`` s."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class WebhookMalformed(Exception):
    """The delivery verified but is not one the provider sends (not JSON, too deep...)."""


# Integrations looked up by id, found or not: bounded, since anyone may send any id.
MAX_CACHED = 1024


def _event_id(change_id: str | None, body: bytes, index: int) -> str:
    # Deliveries without event ids are identified by their content and position.
    return change_id or "sha256:" + hashlib.sha256(body + b"#" + str(index).encode()).hexdigest()


def event_rows(
    integration: Integration,
    connector: Connector,
    headers: Mapping[str, str],
    body: bytes,
) -> list[dict[str, Any]]:
    """Verify one delivery and turn its changes into WebhookEvent rows (nothing stored)."""
    try:
        verified = connector.verify_webhook(headers, body)
    except Exception as exc:  # an absurd header or body proves nothing: refused, not a 500
        log.warning("webhook verification failed on its input", error=repr(exc)[:200])
        verified = False
    if not verified:
        raise WebhookRejected("signature, credentials or timestamp did not verify")
    try:
        if integration.provider != "salesforce":  # SOAP: its parser bounds the XML itself
            jsonlimits.loads(body)  # the limits first, before a provider's parser walks it
        changes = connector.parse_webhook(body)
    except ConnectorError:
        raise
    except Exception as exc:
        message = exc.message if isinstance(exc, jsonlimits.JsonRefused) else type(exc).__name__
        raise WebhookMalformed(f"delivery not understood: {message}") from None
    now = datetime.now(UTC)
    return [
        {
            "id": uuid.uuid4(),
            "workspace_id": integration.workspace_id,
            "integration_id": integration.id,
            "provider": integration.provider,
            "event_id": _event_id(change.event_id, body, i),
            "received_at": now,
            "verified": True,
            "payload": {
                "object_type": change.object_type,
                "remote_id": change.remote_id,
                "kind": change.kind.value,
                "properties": orjson.loads(orjson.dumps(dict(change.properties), default=str)),
                "merged_into": change.merged_into,
            },
        }
        for i, change in enumerate(changes)
    ]


class WebhookReceiver:
    """The API's intake: integrations looked up at most once per ``ttl`` seconds each
    (a changed or removed integration is seen within that time), deliveries verified in
    the caller's thread and stored by one group-committing ``EventWriter``."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        connector_of: Callable[[Integration], Connector],
        *,
        ttl: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        windows: WindowBackend | None = None,
    ) -> None:
        self._sessions = sessions
        # deliveries per integration (config.webhook_rate_limit), shared through Redis
        # when the deployment has it
        self._windows: WindowBackend = windows if windows is not None else MemoryWindows()
        self._connector_of = connector_of
        self._ttl = ttl
        self._clock = clock
        self._known: dict[uuid.UUID, tuple[float, Integration | None]] = {}
        self._lock = threading.Lock()
        self.writer = EventWriter(sessions)

    def _integration(self, integration_id: uuid.UUID) -> Integration | None:
        now = self._clock()
        with self._lock:
            cached = self._known.get(integration_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        with self._sessions() as session:
            integration = session.get(Integration, integration_id)
        with self._lock:
            self._known.pop(integration_id, None)
            while len(self._known) >= MAX_CACHED:  # the oldest lookup goes first
                del self._known[next(iter(self._known))]
            self._known[integration_id] = (now, integration)
        return integration

    def forget(self, integration_id: uuid.UUID) -> None:
        """Drop a cached lookup (the integration was removed under a delivery)."""
        with self._lock:
            self._known.pop(integration_id, None)

    @property
    def cached(self) -> int:
        with self._lock:
            return len(self._known)

    def accept(
        self, provider: str, integration_id: uuid.UUID, headers: Mapping[str, str], body: bytes
    ) -> Future[Received]:
        """Verify a delivery and queue its events; the future is answered once stored.
        Raises UnknownIntegration, WebhookRejected, WebhookMalformed or a ConnectorError."""
        integration = self._integration(integration_id)
        if integration is None or integration.provider != provider:
            raise UnknownIntegration(f"no {provider} integration {integration_id}")
        self._throttle(integration)
        rows = event_rows(integration, self._connector_of(integration), headers, body)
        return self.writer.submit(rows)

    def _throttle(self, integration: Integration) -> None:
        """``WebhookThrottled`` when the delivery is over the integration's limit."""
        limit = (integration.config or {}).get("webhook_rate_limit")
        if not limit:
            return
        budget = RateBudget.model_validate(limit).budget()
        key = f"webhooks:{integration.id}"
        wait = self._windows.try_acquire(key, (budget,), 1.0, time.time())
        if wait > 0:
            raise WebhookThrottled(
                f"over this integration's webhook limit ({int(budget.limit)} per "
                f"{budget.period:g} s)",
                retry_after=wait,
            )

    def close(self) -> None:
        self.writer.close()


def claim_events(
    session: Session, limit: int = 500
) -> dict[tuple[uuid.UUID, str], list[uuid.UUID]]:
    """Take unprocessed events, grouped by (integration, object type). Commits."""
    candidates = list(
        session.execute(
            select(WebhookEvent.id, WebhookEvent.integration_id, WebhookEvent.payload)
            .where(WebhookEvent.processed_at.is_(None))
            .order_by(WebhookEvent.received_at)
            .limit(limit)
        )
    )
    if not candidates:
        session.rollback()
        return {}
    taken = set(
        session.scalars(
            update(WebhookEvent)
            .where(
                WebhookEvent.id.in_([c.id for c in candidates]),
                WebhookEvent.processed_at.is_(None),
            )
            .values(processed_at=datetime.now(UTC), outcome="polling")
            .returning(WebhookEvent.id)
        )
    )
    session.commit()
    groups: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for event_id, integration_id, payload in candidates:
        if event_id in taken:
            groups.setdefault((integration_id, str(payload.get("object_type"))), []).append(
                event_id
            )
    return groups


def settle_events(session: Session, event_ids: list[uuid.UUID], outcome: str) -> None:
    session.execute(
        update(WebhookEvent).where(WebhookEvent.id.in_(event_ids)).values(outcome=outcome[:500])
    )
    session.commit()


def release_events(session: Session, event_ids: list[uuid.UUID]) -> None:
    """Hand claimed events back unprocessed (the stream was busy); commits."""
    session.execute(
        update(WebhookEvent)
        .where(WebhookEvent.id.in_(event_ids))
        .values(processed_at=None, outcome=None)
    )
    session.commit()
