"""Campaign and CampaignMember: the sObjects a Salesforce org runs marketing with.

A campaign is what a journey is in Total Expert; a contact is in it through a
CampaignMember (``CampaignId``, ``ContactId`` or ``LeadId``, ``Status``). They are served
by the sandbox's generic sObject, collections and SOQL routes like every other type;
campaigns are made as a user would (``user_change("Campaign", None, {...})``).
"""

from __future__ import annotations

from crmsync.sandbox.salesforce.schema import SObjectType, _f, _system

__all__ = ["campaign_objects"]

CAMPAIGN_TYPES = ("Email", "Webinar", "Conference", "Advertisement", "Direct Mail", "Other")
CAMPAIGN_STATUSES = ("Planned", "In Progress", "Completed", "Aborted")
MEMBER_STATUSES = ("Planned", "Sent", "Received", "Responded")


def _campaign() -> SObjectType:
    return SObjectType(
        "Campaign",
        "701",
        "Campaigns",
        (
            *_system("Campaign"),
            _f("Name", nillable=False, length=80),
            _f("Type", "picklist", picklist=CAMPAIGN_TYPES),
            _f("Status", "picklist", picklist=CAMPAIGN_STATUSES, default="Planned"),
            _f("IsActive", "boolean"),
            _f("Description", "textarea"),
            _f("StartDate", "date"),
            _f("EndDate", "date"),
            _f("NumberOfContacts", "int", createable=False, updateable=False),
        ),
    )


def _member() -> SObjectType:
    return SObjectType(
        "CampaignMember",
        "00v",
        "Campaign Members",
        (
            *_system("CampaignMember"),
            _f("CampaignId", "reference", reference_to=("Campaign",), nillable=False),
            _f("ContactId", "reference", reference_to=("Contact",)),
            _f("LeadId", "reference", reference_to=("Lead",)),
            _f("Status", "picklist", picklist=MEMBER_STATUSES, default="Sent"),
        ),
    )


def campaign_objects() -> dict[str, SObjectType]:
    """Campaign and CampaignMember, keyed by name."""
    return {o.name: o for o in (_campaign(), _member())}
