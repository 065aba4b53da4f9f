"""Record touchpoints: from the API in batches, and from app events (``post.engaged``…).

A touchpoint names its person by crmsync id (``contact_id``/``lead_id``) or by the app's
own id (``contact_ref``/``lead_ref``, the records' ``external_ref``), and its campaign by
name (a campaign seen for the first time is created) or by the id of a CRM campaign
linked to one (``crm_campaign_id``). A touchpoint made from an event
keeps the event's id, so a redelivered event makes it once.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.crm_campaigns import by_remote_id
from crmsync.store.models import Campaign, Contact, Event, Lead, Touchpoint

# App event type -> the channel its touchpoints get when the event names none.
TOUCH_EVENTS: Final = {
    "post.engaged": "social",
    "ad.clicked": "paid",
    "page.visited": "web",
    "message.sent": "message",
}
TEXT_FIELDS: Final = (
    "platform",
    "content_id",
    "conversation_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
)


log = structlog.get_logger("crmsync.attribution")


class TouchpointInvalid(ValueError):
    """A touchpoint that cannot be recorded; the message says what to fix."""


def campaign_named(session: Session, workspace_id: uuid.UUID, name: str) -> Campaign:
    found = session.scalar(
        select(Campaign).where(Campaign.workspace_id == workspace_id, Campaign.name == name)
    )
    if found is None:
        found = Campaign(workspace_id=workspace_id, name=name)
        session.add(found)
        session.flush()
    return found


def _person(
    session: Session, workspace_id: uuid.UUID, data: dict[str, Any]
) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    contact_id = _record(session, workspace_id, Contact, data.get("contact_id"), "contact_id")
    lead_id = _record(session, workspace_id, Lead, data.get("lead_id"), "lead_id")
    if contact_id is None and data.get("contact_ref"):
        contact_id = _by_ref(session, workspace_id, Contact, str(data["contact_ref"]))
    if lead_id is None and data.get("lead_ref"):
        lead_id = _by_ref(session, workspace_id, Lead, str(data["lead_ref"]))
    return contact_id, lead_id


def _record(
    session: Session, workspace_id: uuid.UUID, model: type[Contact | Lead], value: Any, name: str
) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        record_id = uuid.UUID(str(value))
    except ValueError:
        raise TouchpointInvalid(f"{name} is not a UUID: {str(value)[:60]!r}") from None
    record = session.get(model, record_id)
    if record is None or record.workspace_id != workspace_id or record.deleted_at is not None:
        raise TouchpointInvalid(f"no {name.removesuffix('_id')} with id {record_id}")
    return record_id


def _by_ref(
    session: Session, workspace_id: uuid.UUID, model: type[Contact | Lead], ref: str
) -> uuid.UUID | None:
    return session.scalar(
        select(model.id).where(
            model.workspace_id == workspace_id,
            model.external_ref == ref,
            model.deleted_at.is_(None),
        )
    )


def _campaign_id(
    session: Session, workspace_id: uuid.UUID, data: dict[str, Any]
) -> uuid.UUID | None:
    """By the CRM's campaign id (``crm_campaign_id``, linked by ``crm_campaigns``) or by
    name (``campaign``: a new name makes a campaign)."""
    remote = data.get("crm_campaign_id")
    if remote not in (None, ""):
        found = by_remote_id(session, workspace_id, str(remote)[:100])
        if found is None:
            raise TouchpointInvalid(
                f"no campaign is linked to the CRM campaign {str(remote)[:100]!r}; read the "
                "CRMs' campaigns first (POST /api/v1/campaigns/crm/refresh)"
            )
        return found.id
    campaign = data.get("campaign")
    return campaign_named(session, workspace_id, str(campaign)[:255]).id if campaign else None


def build(
    session: Session,
    workspace_id: uuid.UUID,
    data: dict[str, Any],
    *,
    default_channel: str | None = None,
    occurred_at: datetime | None = None,
) -> Touchpoint:
    """A touchpoint from one item or event payload (added to the session, not flushed)."""
    contact_id, lead_id = _person(session, workspace_id, data)
    if contact_id is None and lead_id is None:
        raise TouchpointInvalid(
            "a touchpoint needs its person: contact_id, lead_id, contact_ref or lead_ref"
        )
    channel = str(data.get("channel") or default_channel or "").strip()
    if not channel:
        raise TouchpointInvalid("channel is required (e.g. social, paid, email, web)")
    campaign_id = _campaign_id(session, workspace_id, data)
    touchpoint = Touchpoint(
        workspace_id=workspace_id,
        contact_id=contact_id,
        lead_id=lead_id,
        occurred_at=_time(data.get("occurred_at"), occurred_at),
        channel=channel[:100],
        type=str(data["type"])[:100] if data.get("type") else None,
        campaign_id=campaign_id,
        cost=_cost(data.get("cost")),
        **{f: str(data[f])[:255] for f in TEXT_FIELDS if data.get(f) not in (None, "")},
    )
    if data.get("post_id") and touchpoint.content_id is None:
        touchpoint.content_id = str(data["post_id"])[:255]
    session.add(touchpoint)
    return touchpoint


def from_event(session: Session, event: Event) -> Touchpoint | None:
    """The touchpoint an app event stands for, once per event; None for other events."""
    channel = TOUCH_EVENTS.get(event.type)
    if channel is None:
        return None
    earlier = session.scalar(
        select(Touchpoint).where(
            Touchpoint.workspace_id == event.workspace_id, Touchpoint.event_id == event.id
        )
    )
    if earlier is not None:
        return earlier
    data = {"type": event.type, **(event.data or {})}
    touchpoint = build(
        session,
        event.workspace_id,
        data,
        default_channel=channel,
        occurred_at=event.occurred_at,
    )
    touchpoint.event_id = event.id
    return touchpoint


def on_event(session: Session, event: Event) -> None:
    """The event router's subscriber: a touch event records its touchpoint. One whose
    person cannot be found records none (logged), and the event is stored all the same."""
    try:
        with session.begin_nested():
            from_event(session, event)
            session.flush()
    except TouchpointInvalid as exc:
        log.info("no touchpoint for event", event_id=str(event.id), reason=str(exc))


def _time(value: Any, default: datetime | None) -> datetime:
    if value in (None, ""):
        return default or datetime.now(UTC)
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise TouchpointInvalid(f"occurred_at is not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cost(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        raise TouchpointInvalid(f"cost is not a number: {value!r}") from None
    if not cost.is_finite() or abs(cost) >= Decimal(10) ** 12:
        raise TouchpointInvalid("cost must be a finite number below 10^12")
    return cost
