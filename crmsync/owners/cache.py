"""The cached list of an integration's CRM users, with a time to live.

``refresh`` lists the users through the connector and replaces the integration's rows
(a user gone from the CRM is dropped, a renamed one updated); ``current`` answers from
the cache and refreshes it first when it is older than the TTL. A failed listing keeps
the rows of the last good one and notes the error; the next try waits ``RETRY_AFTER``,
so a CRM that is down is not asked again by every push.

Functions take the caller's session and do not commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crmsync.connectors.base import Connector
from crmsync.connectors.errors import ConnectorError
from crmsync.owners.listing import list_owners
from crmsync.owners.users import match_key
from crmsync.store.models import CrmOwner, Integration, OwnerListing

DEFAULT_TTL = timedelta(hours=1)
RETRY_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Cached:
    """An integration's users as cached, and the state of the cache."""

    owners: list[CrmOwner]
    listed_at: datetime | None
    last_error: str | None
    stale: bool


def refresh(
    session: Session, integration: Integration, connector: Connector, now: datetime | None = None
) -> OwnerListing:
    """List the CRM's users now and store them. A ConnectorError is noted on the listing
    (the cached rows stay) and raised again."""
    now = now or datetime.now(UTC)
    listing = _listing(session, integration)
    listing.attempted_at = now
    try:
        found = list_owners(connector)
    except ConnectorError as error:
        listing.last_error = f"{error.kind}: {error.message}"
        session.flush()
        raise
    by_id = {o.remote_id: o for o in found}  # one row per user, the last one listed wins
    existing = {
        row.remote_id: row
        for row in session.scalars(
            select(CrmOwner).where(CrmOwner.integration_id == integration.id)
        )
    }
    gone = [row.id for rid, row in existing.items() if rid not in by_id]
    if gone:
        session.execute(delete(CrmOwner).where(CrmOwner.id.in_(gone)))
    for remote_id, owner in by_id.items():
        row = existing.get(remote_id)
        if row is None:
            row = CrmOwner(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                remote_id=remote_id,
            )
            session.add(row)
        row.email = owner.email
        row.email_key = match_key(owner.email)
        row.name = owner.name[:255]
        row.active = owner.active
        row.aliases = list(owner.aliases)
        row.listed_at = now
    listing.listed_at = now
    listing.last_error = None
    session.flush()
    return listing


def current(
    session: Session,
    integration: Integration,
    connector: Connector | None,
    *,
    ttl: timedelta = DEFAULT_TTL,
    now: datetime | None = None,
) -> Cached:
    """The cached users, refreshed first when older than ``ttl`` (and ``connector`` is
    given); a failed refresh answers the rows of the last good one, ``stale``."""
    now = now or datetime.now(UTC)
    listing = session.get(OwnerListing, integration.id)
    due = listing is None or listing.listed_at is None or now - listing.listed_at >= ttl
    resting = (
        listing is not None
        and listing.attempted_at is not None
        and listing.last_error is not None
        and now - listing.attempted_at < RETRY_AFTER
    )
    if due and connector is not None and not resting:
        try:
            listing = refresh(session, integration, connector, now)
        except ConnectorError:
            listing = session.get(OwnerListing, integration.id)
    owners = list(
        session.scalars(
            select(CrmOwner)
            .where(CrmOwner.integration_id == integration.id)
            .order_by(CrmOwner.email_key, CrmOwner.remote_id)
        )
    )
    listed_at = listing.listed_at if listing else None
    return Cached(
        owners=owners,
        listed_at=listed_at,
        last_error=listing.last_error if listing else None,
        stale=listed_at is None or now - listed_at >= ttl,
    )


def _listing(session: Session, integration: Integration) -> OwnerListing:
    listing = session.get(OwnerListing, integration.id)
    if listing is None:
        listing = OwnerListing(integration_id=integration.id, workspace_id=integration.workspace_id)
        session.add(listing)
    return listing
