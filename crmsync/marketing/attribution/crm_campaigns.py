"""CRM campaigns linked to crmsync campaigns: HubSpot's marketing campaigns
(``/marketing/v3/campaigns``) and Salesforce's ``Campaign`` sObject.

``refresh`` reads the campaigns of the workspace's connected CRMs that have them and links
each to the crmsync campaign of the same name, creating it when there is none (its dates,
channel and currency filled from the CRM, never overwriting what a user set). A link is
unique per (integration, CRM campaign id), so reading twice links once; a CRM campaign
renamed later keeps its link. ``link`` ties one by hand. A touchpoint can then name its
campaign by the CRM's id (``crm_campaign_id``), and reports name each campaign's CRM
campaigns. A CRM that fails to answer leaves its links as they were (its error is
reported). Callers commit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConnectorError
from crmsync.store.models import Campaign, CampaignLink, Integration, IntegrationStatus

__all__ = [
    "CampaignLinkError",
    "Refresh",
    "RemoteCampaign",
    "by_remote_id",
    "link",
    "links_by_name",
    "links_of",
    "read_remote",
    "refresh",
]

log = structlog.get_logger("crmsync.attribution")

HUBSPOT_PROPERTIES = "hs_name,hs_start_date,hs_end_date,hs_currency_code"
SALESFORCE_CAMPAIGNS = "SELECT Id, Name, Type, StartDate, EndDate FROM Campaign ORDER BY Id"
PAGE = 100


class CampaignLinkError(ValueError):
    """A link that cannot be made; the message says why."""


@dataclass(frozen=True)
class RemoteCampaign:
    remote_id: str
    name: str
    starts_on: date | None = None
    ends_on: date | None = None
    channel: str | None = None
    currency: str | None = None


@dataclass
class Refresh:
    linked: dict[str, int] = field(default_factory=dict)  # integration id -> CRM campaigns
    created: int = 0  # crmsync campaigns made for CRM campaigns with no namesake
    errors: dict[str, str] = field(default_factory=dict)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _hubspot(http: Any) -> list[RemoteCampaign]:
    found: list[RemoteCampaign] = []
    after: str | None = None
    while True:
        params: dict[str, Any] = {"limit": PAGE, "properties": HUBSPOT_PROPERTIES}
        if after:
            params["after"] = after
        body = http.get("/marketing/v3/campaigns", params=params).json()
        for item in body.get("results") or []:
            props = item.get("properties") or {}
            if not props.get("hs_name"):
                continue
            found.append(
                RemoteCampaign(
                    str(item["id"]),
                    str(props["hs_name"])[:255],
                    _day(props.get("hs_start_date")),
                    _day(props.get("hs_end_date")),
                    None,
                    props.get("hs_currency_code") or None,
                )
            )
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return found


def _salesforce(client: Any) -> list[RemoteCampaign]:
    found: list[RemoteCampaign] = []
    page: Mapping[str, Any] | None = client.query(SALESFORCE_CAMPAIGNS)
    while page is not None:
        for row in page.get("records") or []:
            found.append(
                RemoteCampaign(
                    str(row["Id"]),
                    str(row.get("Name") or row["Id"])[:255],
                    _day(row.get("StartDate")),
                    _day(row.get("EndDate")),
                    str(row["Type"])[:100] if row.get("Type") else None,
                )
            )
        following = page.get("nextRecordsUrl")
        page = client.more(str(following)) if following else None
    return found


def read_remote(provider: str, connector: Connector) -> list[RemoteCampaign] | None:
    """The CRM's campaigns; None for a CRM crmsync reads no campaigns from."""
    client = getattr(connector, "client", None)
    if provider == "hubspot" and client is not None:
        return _hubspot(client.http)
    if provider == "salesforce" and client is not None:
        return _salesforce(client)
    return None


def _campaign_for(
    session: Session, integration: Integration, remote: RemoteCampaign, report: Refresh
) -> Campaign:
    campaign = session.scalar(
        select(Campaign).where(
            Campaign.workspace_id == integration.workspace_id, Campaign.name == remote.name
        )
    )
    if campaign is None:
        campaign = Campaign(workspace_id=integration.workspace_id, name=remote.name)
        session.add(campaign)
        report.created += 1
    campaign.starts_on = campaign.starts_on or remote.starts_on
    campaign.ends_on = campaign.ends_on or remote.ends_on
    campaign.channel = campaign.channel or remote.channel
    campaign.currency = campaign.currency or remote.currency
    if campaign.starts_on and campaign.ends_on and campaign.ends_on < campaign.starts_on:
        campaign.ends_on = None  # a CRM's dates never make a campaign that cannot be saved
    session.flush()
    return campaign


def _store(
    session: Session,
    integration: Integration,
    remote: Iterable[RemoteCampaign],
    now: datetime,
    report: Refresh,
) -> int:
    known = {
        link.remote_id: link
        for link in session.scalars(
            select(CampaignLink).where(CampaignLink.integration_id == integration.id)
        )
    }
    count = 0
    for item in remote:
        count += 1
        row = known.get(item.remote_id)
        if row is None:
            campaign = _campaign_for(session, integration, item, report)
            row = CampaignLink(
                workspace_id=integration.workspace_id,
                campaign_id=campaign.id,
                integration_id=integration.id,
                provider=integration.provider,
                remote_id=item.remote_id,
            )
            session.add(row)
            known[item.remote_id] = row
        row.remote_name = item.name
        row.refreshed_at = now
    session.flush()
    return count


def refresh(
    session: Session,
    workspace_id: uuid.UUID,
    connector_of: Callable[[Integration], Connector],
    *,
    integration_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Refresh:
    """Read the CRM campaigns of the workspace's connected integrations and link them."""
    now = now or datetime.now(UTC)
    query = select(Integration).where(
        Integration.workspace_id == workspace_id, Integration.status == IntegrationStatus.CONNECTED
    )
    if integration_id is not None:
        query = query.where(Integration.id == integration_id)
    report = Refresh()
    for integration in session.scalars(query.order_by(Integration.created_at)).all():
        key = str(integration.id)
        try:
            remote = read_remote(integration.provider, connector_of(integration))
        except ConnectorError as error:
            log.warning("campaign refresh failed", integration=key, error=error.message)
            report.errors[key] = error.message
            continue
        if remote is not None:
            report.linked[key] = _store(session, integration, remote, now, report)
    return report


def link(
    session: Session,
    workspace_id: uuid.UUID,
    campaign: Campaign,
    integration: Integration,
    remote_id: str,
    remote_name: str | None = None,
) -> CampaignLink:
    """Link the CRM campaign ``remote_id`` of ``integration`` to ``campaign`` (moving an
    existing link of that CRM campaign)."""
    if integration.workspace_id != workspace_id or campaign.workspace_id != workspace_id:
        raise CampaignLinkError("the campaign and the integration belong to another workspace")
    row = session.scalar(
        select(CampaignLink).where(
            CampaignLink.integration_id == integration.id, CampaignLink.remote_id == remote_id
        )
    )
    if row is None:
        row = CampaignLink(
            workspace_id=workspace_id,
            integration_id=integration.id,
            provider=integration.provider,
            remote_id=remote_id,
            campaign_id=campaign.id,
        )
        session.add(row)
    row.campaign_id = campaign.id
    row.remote_name = remote_name or row.remote_name
    row.refreshed_at = datetime.now(UTC)
    session.flush()
    return row


def links_of(
    session: Session, workspace_id: uuid.UUID, campaign_ids: Iterable[uuid.UUID] | None = None
) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Per campaign: its CRM campaigns as ``{integration_id, provider, remote_id, name}``."""
    query = select(CampaignLink).where(CampaignLink.workspace_id == workspace_id)
    if campaign_ids is not None:
        query = query.where(CampaignLink.campaign_id.in_(list(campaign_ids)))
    out: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for row in session.scalars(query.order_by(CampaignLink.provider, CampaignLink.remote_id)):
        out[row.campaign_id].append(
            {
                "integration_id": row.integration_id,
                "provider": row.provider,
                "remote_id": row.remote_id,
                "name": row.remote_name,
            }
        )
    return out


def links_by_name(
    session: Session, workspace_id: uuid.UUID, names: Iterable[str]
) -> dict[str, list[dict[str, Any]]]:
    """The CRM campaigns of the campaigns with these names (reports name campaigns)."""
    wanted = [n for n in names if n]
    if not wanted:
        return {}
    ids: dict[uuid.UUID, str] = {
        cid: name
        for cid, name in session.execute(
            select(Campaign.id, Campaign.name).where(
                Campaign.workspace_id == workspace_id, Campaign.name.in_(wanted)
            )
        )
    }
    return {ids[cid]: rows for cid, rows in links_of(session, workspace_id, ids).items()}


def by_remote_id(session: Session, workspace_id: uuid.UUID, remote_id: str) -> Campaign | None:
    """The crmsync campaign a CRM campaign id is linked to (any of the workspace's CRMs)."""
    return session.scalar(
        select(Campaign)
        .join(CampaignLink, CampaignLink.campaign_id == Campaign.id)
        .where(CampaignLink.workspace_id == workspace_id, CampaignLink.remote_id == remote_id)
        .limit(1)
    )
