"""Send due deliveries, signed, in per-record order; settle each by its answer.

Per-record order: a delivery is due only when no earlier delivery of the same (endpoint,
key) is still pending, so a record's events reach an endpoint in the order they happened,
even across retries. Claims take a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so
several workers never send one delivery at once; a delivery whose worker died is due
again when its lease runs out (at-least-once).

A 2xx answer settles a delivery ``succeeded``. Anything else is a failed attempt, tried
again on the ``Schedule``; when the schedule is spent the delivery is ``dead`` and its
endpoint is disabled (``webhook_endpoint.disabled`` goes out to the workspace's other
endpoints). The functions that touch the store never commit.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx
import orjson
from sqlalchemy import exists, insert, or_, select, update
from sqlalchemy.orm import Session, aliased
from standardwebhooks import Webhook

from crmsync.connectors.http.guard import UnsafeURL
from crmsync.integrations.vault import Vault
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks.endpoints import check_endpoint_url, disable, unseal
from crmsync.outbound.webhooks.schedule import DEFAULT, Schedule
from crmsync.store.models import DeliveryStatus, OutboundEvent, WebhookDelivery, WebhookEndpoint

ENDPOINT_DISABLED: Final = "webhook_endpoint.disabled"
LEASE: Final = timedelta(seconds=60)
MAX_ERROR: Final = 500


@dataclass(frozen=True)
class Outgoing:
    """One claimed delivery, ready to send: everything the HTTP call needs."""

    delivery_id: int
    endpoint_id: uuid.UUID
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def message_id(event_id: int) -> str:
    """The ``webhook-id`` of an event: the same on every attempt and replay, so a receiver
    can drop a repeat."""
    return f"msg_{event_id}"


def body_of(event: OutboundEvent) -> bytes:
    return _body(event.type, event.created_at, event.payload)


def _body(event_type: str, created_at: datetime, payload: Any) -> bytes:
    return orjson.dumps({"type": event_type, "timestamp": created_at.isoformat(), "data": payload})


def claim(
    session: Session, vault: Vault, limit: int, now: datetime, lease: timedelta = LEASE
) -> list[Outgoing]:
    """Take up to ``limit`` due deliveries under a lease and sign them.

    Columns, not ORM objects, and one UPDATE for the leases: a round claims hundreds.
    """
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.key == WebhookDelivery.key,
        earlier.status == DeliveryStatus.PENDING,
        earlier.id < WebhookDelivery.id,
    )
    rows = session.execute(
        select(
            WebhookDelivery.id,
            WebhookDelivery.endpoint_id,
            OutboundEvent.id,
            OutboundEvent.type,
            OutboundEvent.created_at,
            OutboundEvent.payload,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.workspace_id,
        )
        .join(OutboundEvent, OutboundEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == DeliveryStatus.PENDING,
            WebhookDelivery.next_attempt_at <= now,
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
            WebhookEndpoint.enabled.is_(True),
            ~blocked,
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).all()
    if not rows:
        return []
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_([row[0] for row in rows]))
        .values(lease_until=now + lease),
        execution_options={"synchronize_session": False},
    )
    signers: dict[uuid.UUID, Webhook] = {}
    out: list[Outgoing] = []
    # Signed with the wall clock, whatever ``now`` schedules by: receivers refuse a
    # timestamp far from their own clock.
    signed_at = datetime.now(UTC)
    stamp = str(int(signed_at.timestamp()))
    for row in rows:
        delivery_id, endpoint_id, event_id, event_type, created_at, payload, url, *sealed = row
        signer = signers.get(endpoint_id)
        if signer is None:
            secret = unseal(vault, sealed[0], sealed[1], endpoint_id)
            signer = signers[endpoint_id] = Webhook(secret)
        body = _body(event_type, created_at, payload)
        msg_id = message_id(event_id)
        headers = {
            "content-type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": stamp,
            "webhook-signature": signer.sign(msg_id, signed_at, body),
        }
        out.append(Outgoing(delivery_id, endpoint_id, url, headers, body))
    return out


def refusals(outgoing: list[Outgoing], *, sandbox_mode: bool) -> dict[str, str]:
    """The URLs among ``outgoing`` the guard refuses now (DNS may have changed since the
    endpoint was saved), each checked once: URL -> why."""
    refused: dict[str, str] = {}
    for url in {o.url for o in outgoing}:
        try:
            check_endpoint_url(url, sandbox_mode=sandbox_mode)
        except UnsafeURL as exc:
            refused[url] = f"refused: {exc}"
    return refused


@functools.lru_cache(maxsize=1024)
def _parsed(url: str) -> httpx.URL:
    """An endpoint URL parsed once, not once per delivery (``httpx.URL`` is immutable)."""
    return httpx.URL(url)


def send(
    transport: httpx.BaseTransport,
    outgoing: Outgoing,
    *,
    refused: dict[str, str],
    timeout: httpx.Timeout,
) -> Outcome:
    """One HTTP POST straight through the transport (no cookies, no redirects: an endpoint
    answers itself); never raises. ``refused``: URLs the guard refused this round."""
    if outgoing.url in refused:
        return Outcome(outgoing.delivery_id, None, refused[outgoing.url])
    request = httpx.Request(
        "POST",
        _parsed(outgoing.url),
        content=outgoing.body,
        headers=outgoing.headers,
        extensions={"timeout": timeout.as_dict()},
    )
    try:
        response = transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
    except httpx.HTTPError as exc:
        return Outcome(outgoing.delivery_id, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR])
    error = None if response.is_success else response.text[:MAX_ERROR]
    return Outcome(outgoing.delivery_id, response.status_code, error)


def settle(
    session: Session,
    outcomes: list[Outcome],
    now: datetime,
    schedule: Schedule = DEFAULT,
) -> list[uuid.UUID]:
    """Record each outcome; returns the endpoints disabled because a delivery died.

    Successes, the common case, are settled by one UPDATE per status code; a delivery no
    longer pending (its endpoint deleted, or settled meanwhile) is left as it is.
    """
    by_code: dict[int, list[int]] = {}
    failed: list[Outcome] = []
    for outcome in outcomes:
        if outcome.ok:
            assert outcome.status_code is not None
            by_code.setdefault(outcome.status_code, []).append(outcome.delivery_id)
        else:
            failed.append(outcome)
    for code, ids in by_code.items():
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == DeliveryStatus.PENDING)
            .values(
                status=DeliveryStatus.SUCCEEDED,
                attempts=WebhookDelivery.attempts + 1,
                lease_until=None,
                last_status_code=code,
                last_error=None,
                delivered_at=now,
            )
        )
    disabled: list[uuid.UUID] = []
    for outcome in failed:
        delivery = session.get(WebhookDelivery, outcome.delivery_id)
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            continue
        delivery.attempts += 1
        delivery.lease_until = None
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        wait = schedule.wait_after(delivery.attempts)
        if wait is not None:
            delivery.next_attempt_at = now + wait
            continue
        delivery.status = DeliveryStatus.DEAD
        endpoint = session.get(WebhookEndpoint, delivery.endpoint_id)
        if endpoint is not None and endpoint.enabled:
            reason = (
                f"delivery {delivery.id} failed {delivery.attempts} times over about a day; "
                f"last: {outcome.status_code or outcome.error}"
            )
            disable(endpoint, reason)
            disabled.append(endpoint.id)
            emit(
                session,
                endpoint.workspace_id,
                ENDPOINT_DISABLED,
                str(endpoint.id),
                {"endpoint_id": str(endpoint.id), "url": endpoint.url, "reason": reason},
            )
    return disabled


def replay(
    session: Session, delivery: WebhookDelivery, now: datetime | None = None
) -> WebhookDelivery:
    """Send the delivery's event again now: a pending delivery is simply due at once (its
    place in the record's order kept); a settled one gets a new delivery."""
    now = now or datetime.now(UTC)
    if delivery.status == DeliveryStatus.PENDING:
        delivery.next_attempt_at = now
        return delivery
    again = WebhookDelivery(
        workspace_id=delivery.workspace_id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        key=delivery.key,
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        replay_of=delivery.id,
    )
    session.add(again)
    session.flush()
    return again


def replay_range(
    session: Session,
    endpoint: WebhookEndpoint,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
) -> int:
    """Deliver again every event of ``[start, end)`` this endpoint takes; returns how many."""
    now = now or datetime.now(UTC)
    wanted = set(endpoint.event_types or ())
    events = session.execute(
        select(OutboundEvent.id, OutboundEvent.type, OutboundEvent.key)
        .where(
            OutboundEvent.workspace_id == endpoint.workspace_id,
            OutboundEvent.created_at >= start,
            OutboundEvent.created_at < end,
            OutboundEvent.id <= endpoint.cursor,
        )
        .order_by(OutboundEvent.id)
    ).all()
    rows: list[dict[str, Any]] = [
        {
            "workspace_id": endpoint.workspace_id,
            "endpoint_id": endpoint.id,
            "event_id": event_id,
            "event_type": type_,
            "key": key,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "replay_of": 0,  # a replay of a time range, not of one delivery
            "created_at": now,
        }
        for event_id, type_, key in events
        if not wanted or type_ in wanted
    ]
    if rows:
        session.execute(insert(WebhookDelivery), rows)
    return len(rows)


def release(session: Session, delivery_ids: list[int]) -> None:
    """Give claimed deliveries back unsent (a stopping worker)."""
    if delivery_ids:
        session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id.in_(delivery_ids),
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .values(lease_until=None)
        )
