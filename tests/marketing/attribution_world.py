"""Generated attribution data, and the report recomputed the plain way to compare with.

``reference`` reads every record through the ORM, lists every conversion with its path
and credits them with ``report.attribute``: what a report was before conversions with no
touch were counted rather than listed and keys were read as the driver returns them.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.conversions import Conversion, Kind, is_won
from crmsync.marketing.attribution.paths import NONE_LABEL, ConversionPath, Dataset, GroupBy
from crmsync.marketing.attribution.report import Report, attribute
from crmsync.marketing.attribution.service import Options
from crmsync.records.changelog import CREATED
from crmsync.records.service import create_record, update_record
from crmsync.store.models import Campaign, ChangeLog, Contact, Deal, Lead, Touchpoint

NOW = datetime.now(UTC).replace(microsecond=0)
CHANNELS = ("social", "paid", "email", "web", "referral")
PLATFORMS = (None, "linkedin", "google", "facebook")


def _ago(rng: random.Random, days: float) -> datetime:
    return NOW - timedelta(seconds=rng.randrange(int(days * 86_400)))


def add_people(session: Session, workspace_id: uuid.UUID, rng: random.Random, n: int) -> None:
    """``n`` people: contacts (some with no touch), their touches (on the contact, or on a
    lead of theirs), leads created over five months (some converted later, one in ten
    with no contact, touched as the lead), deals (some won later, some created won)."""
    campaigns = list(session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id)))
    if not campaigns:
        for name in ("Spring homes", "Rates", "Refi"):
            campaigns.append(Campaign(workspace_id=workspace_id, name=name))
            session.add(campaigns[-1])
        session.flush()
    for _ in range(n):
        tag = uuid.uuid4().hex[:10]
        contact = None
        if rng.random() < 0.9:
            contact = create_record(
                session, workspace_id, "contacts", {"email": f"{tag}@x.example"}, "api"
            )
        lead = None
        if rng.random() < 0.7 or contact is None:
            body: dict[str, Any] = {"last_name": tag, "status": "NEW"}
            if contact is not None:
                body["contact_id"] = str(contact.id)
            lead = create_record(session, workspace_id, "leads", body, "api")
            lead.created_at = _ago(rng, 150)
            if rng.random() < 0.3:
                update_record(session, workspace_id, "leads", lead.id, {"status": "CONVERTED"},
                              "api", written_at=_ago(rng, 60))  # fmt: skip
        if contact is not None and rng.random() < 0.4:
            won_now = rng.random() < 0.2
            deal = create_record(session, workspace_id, "deals", {
                "name": tag, "contact_id": str(contact.id), "amount": f"{rng.randrange(10**6)}.25",
                "stage": "Closed Won" if won_now else "qualified",
            }, "api")  # fmt: skip
            if not won_now and rng.random() < 0.6:
                update_record(session, workspace_id, "deals", deal.id,
                              {"stage": rng.choice(["closedwon", "won", "lost"])}, "api",
                              written_at=_ago(rng, 60))  # fmt: skip
        for _ in range(rng.choice((0, 0, 1, 2, 3, 5, 8))):
            on_lead = lead is not None and (contact is None or rng.random() < 0.2)
            campaign = rng.choice([None, *campaigns])
            session.add(
                Touchpoint(
                    workspace_id=workspace_id,
                    contact_id=None if on_lead or contact is None else contact.id,
                    lead_id=lead.id if on_lead and lead is not None else None,
                    occurred_at=_ago(rng, 200),
                    channel=rng.choice(CHANNELS),
                    platform=rng.choice(PLATFORMS),
                    campaign_id=campaign.id if campaign else None,
                    utm_campaign=None if campaign else rng.choice([None, "utm-only"]),
                )
            )
    session.flush()


def _label(touch: Touchpoint, group_by: GroupBy, campaigns: dict[uuid.UUID, str]) -> str:
    if group_by is GroupBy.CAMPAIGN:
        name = campaigns.get(touch.campaign_id) if touch.campaign_id else touch.utm_campaign
    elif group_by is GroupBy.PLATFORM:
        name = touch.platform
    else:
        name = touch.channel
    return name or NONE_LABEL


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def _set_at(session: Session, record_id: uuid.UUID, field: str, matches: Any) -> datetime | None:
    rows = session.scalars(select(ChangeLog).where(ChangeLog.record_id == record_id)).all()
    changed = [r.at for r in rows if r.field == field and matches(r.new_value)]
    if changed:
        return max(changed)
    created = [r.at for r in rows if r.field == CREATED and matches((r.new_value or {}).get(field))]
    return created[0] if created else None


def _conversions(
    session: Session, workspace_id: uuid.UUID, kind: Kind
) -> list[tuple[datetime, uuid.UUID, Any, float]]:
    """(time, record id, person, value) of every conversion of ``kind``."""
    out: list[tuple[datetime, uuid.UUID, Any, float]] = []
    if kind is Kind.DEAL_WON:
        for deal in session.scalars(select(Deal).where(Deal.workspace_id == workspace_id)):
            at = _set_at(session, deal.id, "stage", is_won)
            if deal.deleted_at is None and is_won(deal.stage) and at is not None:
                out.append((at, deal.id, deal.contact_id, float(deal.amount or 0)))
        return out
    for lead in session.scalars(select(Lead).where(Lead.workspace_id == workspace_id)):
        if lead.deleted_at is not None:
            continue
        if kind is Kind.LEAD_CREATED:
            converted_at: datetime | None = lead.created_at
        elif lead.status == "CONVERTED":
            converted_at = _set_at(session, lead.id, "status", lambda v: v == "CONVERTED")
        else:
            converted_at = None
        if converted_at is not None:
            out.append((converted_at, lead.id, lead.contact_id or lead.id, 0.0))
    return out


def reference(session: Session, workspace_id: uuid.UUID, options: Options) -> Report:
    lookback = timedelta(days=options.lookback_days)
    campaigns = {
        c.id: c.name
        for c in session.scalars(select(Campaign).where(Campaign.workspace_id == workspace_id))
    }
    lead_contact = {
        lead.id: lead.contact_id
        for lead in session.scalars(select(Lead).where(Lead.workspace_id == workspace_id))
    }
    labels: list[str] = []
    touches: dict[Any, list[tuple[datetime, uuid.UUID, int]]] = defaultdict(list)
    mine_first = select(Touchpoint).where(Touchpoint.workspace_id == workspace_id)
    for touch in session.scalars(mine_first.order_by(Touchpoint.occurred_at, Touchpoint.id)):
        if not options.start - lookback <= touch.occurred_at < options.end:
            continue
        person = touch.contact_id or lead_contact.get(touch.lead_id) or touch.lead_id
        label = _label(touch, options.group_by, campaigns)
        if label not in labels:
            labels.append(label)
        touches[person].append((_naive(touch.occurred_at), touch.id, labels.index(label)))
    for mine in touches.values():
        mine.sort()
    converted: list[ConversionPath] = []
    converters = set()
    found = _conversions(session, workspace_id, options.kind)
    for at, record_id, person, value in sorted(found, key=lambda c: (c[0], c[1])):
        if not options.start <= at < options.end:
            continue
        if person in touches:
            converters.add(person)
        path = [t for t in touches.get(person, []) if _naive(at) - lookback <= t[0] <= _naive(at)]
        converted.append(
            ConversionPath(
                Conversion(options.kind, record_id, person, at, value),
                [t[0] for t in path],
                [t[2] for t in path],
                [],
            )
        )
    not_converted = [
        [t[2] for t in mine if t[0] >= _naive(options.start)]
        for person, mine in touches.items()
        if person not in converters
    ]
    dataset = Dataset(labels, converted, [p for p in not_converted if p])
    return attribute(dataset, options.model, half_life_days=options.half_life_days)


def assert_same(got: Report, expected: Report, what: object) -> None:
    assert got.total_conversions == expected.total_conversions, what
    assert got.total_value == pytest.approx(expected.total_value, rel=1e-12), what
    # a row of (almost) nothing is the Markov model's rounding: absent and 0 are the same
    rows = {r.key: (r.conversions, r.value) for r in got.rows}
    want = {r.key: (r.conversions, r.value) for r in expected.rows}
    for key in rows.keys() | want.keys():
        conversions, value = rows.get(key, (0.0, 0.0))
        expected_conversions, expected_value = want.get(key, (0.0, 0.0))
        assert conversions == pytest.approx(expected_conversions, rel=1e-9, abs=1e-9), (what, key)
        assert value == pytest.approx(expected_value, rel=1e-9, abs=1e-6), (what, key)


def some_contacts(session: Session, workspace_id: uuid.UUID, n: int) -> list[Contact]:
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.workspace_id == workspace_id, Contact.deleted_at.is_(None))
            .order_by(Contact.created_at, Contact.id)
            .limit(n)
        )
    )
