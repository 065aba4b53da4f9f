"""Campaigns and how each performs: touchpoints, attributed conversions, revenue and cost.

A campaign's cost is its budget when one is set, else the sum of its touchpoints' costs
in the period. Conversions and revenue are the campaign's attributed credit under the
chosen model, so the campaigns' conversions sum to the period's attributed conversions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.marketing.attribution.paths import GroupBy
from crmsync.marketing.attribution.service import Options, report
from crmsync.store.models import Campaign, Touchpoint


@dataclass(frozen=True)
class Performance:
    campaign: Campaign
    touchpoints: int
    conversions: float
    revenue: float
    cost: float | None

    @property
    def cost_per_conversion(self) -> float | None:
        if self.cost is None or self.conversions <= 0:
            return None
        return self.cost / self.conversions


def performance(session: Session, workspace_id: uuid.UUID, options: Options) -> list[Performance]:
    campaigns = list(
        session.scalars(
            select(Campaign).where(Campaign.workspace_id == workspace_id).order_by(Campaign.name)
        )
    )
    credit = {
        row.key: row
        for row in report(session, workspace_id, replace(options, group_by=GroupBy.CAMPAIGN)).rows
    }
    touches = {
        campaign_id: (count, cost)
        for campaign_id, count, cost in session.execute(
            select(Touchpoint.campaign_id, func.count(), func.sum(Touchpoint.cost))
            .where(
                Touchpoint.workspace_id == workspace_id,
                Touchpoint.campaign_id.is_not(None),
                Touchpoint.occurred_at >= options.start,
                Touchpoint.occurred_at < options.end,
            )
            .group_by(Touchpoint.campaign_id)
        )
    }
    out = []
    for campaign in campaigns:
        count, spent = touches.get(campaign.id, (0, None))
        cost = campaign.budget if campaign.budget is not None else spent
        row = credit.get(campaign.name)
        out.append(
            Performance(
                campaign,
                int(count),
                row.conversions if row else 0.0,
                row.value if row else 0.0,
                float(Decimal(cost)) if cost is not None else None,
            )
        )
    return out
