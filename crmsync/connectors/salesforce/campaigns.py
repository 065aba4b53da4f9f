"""Salesforce campaigns as journeys, CampaignMembers as enrolments.

Campaigns are read with one SOQL query; a contact is enrolled by creating a
CampaignMember (``Status`` "Sent") unless it is a member already (Salesforce refuses a
second one), and unenrolled by deleting its membership. The member's id is the remote
enrolment id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmsync.connectors.base import Journey
from crmsync.connectors.errors import InvalidRecord
from crmsync.connectors.journeys import EnrollTarget
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.soql import quote

__all__ = ["SalesforceCampaigns", "to_journey"]

CAMPAIGNS = (
    "SELECT Id, Name, Type, Status, IsActive, Description, NumberOfContacts "
    "FROM Campaign WHERE IsDeleted = false ORDER BY Name"
)


def to_journey(row: Mapping[str, Any]) -> Journey:
    return Journey(
        remote_id=str(row["Id"]),
        name=str(row.get("Name") or ""),
        active=bool(row.get("IsActive")) and row.get("Status") not in ("Completed", "Aborted"),
        category="campaign",
        trigger=row.get("Type"),
        description=row.get("Description"),
        enrollment_count=row.get("NumberOfContacts"),
    )


class SalesforceCampaigns:
    def __init__(self, client: SalesforceClient) -> None:
        self.client = client

    def journeys(self) -> list[Journey]:
        page: Mapping[str, Any] | None = self.client.query(CAMPAIGNS)
        found: list[Journey] = []
        while page is not None:
            found += [to_journey(r) for r in page.get("records") or []]
            following = page.get("nextRecordsUrl")
            page = self.client.more(str(following)) if following else None
        return found

    def _member(self, campaign_id: str, contact_id: str) -> str | None:
        # both values are quoted SOQL literals: nothing is injected
        where = f"CampaignId = {quote(campaign_id)} AND ContactId = {quote(contact_id)}"
        soql = f"SELECT Id FROM CampaignMember WHERE {where}"  # noqa: S608
        rows = self.client.query(soql).get("records") or []
        return str(rows[0]["Id"]) if rows else None

    def enroll(self, journey_id: str, contact: EnrollTarget) -> str:
        if not contact.remote_id:
            raise InvalidRecord("the contact is not in Salesforce yet")
        existing = self._member(journey_id, contact.remote_id)
        if existing is not None:
            return existing
        member = {
            "attributes": {"type": "CampaignMember"},
            "CampaignId": journey_id,
            "ContactId": contact.remote_id,
            "Status": "Sent",
        }
        (result,) = self.client.create([member])
        if not result.get("success"):
            errors = result.get("errors") or [{}]
            raise InvalidRecord(str(errors[0].get("message") or "refused"))
        return str(result["id"])

    def unenroll(self, journey_id: str, contact: EnrollTarget) -> None:
        if not contact.remote_id:
            return
        member = self._member(journey_id, contact.remote_id)
        if member is not None:
            self.client.delete([member])
