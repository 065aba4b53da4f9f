"""A deal's contact as its primary OpportunityContactRole.

Salesforce relates an Opportunity to its Account by a lookup (``AccountId``), which the
mapping writes like any field, but to a Contact through a separate record, the
OpportunityContactRole. The mapping writes the contact's id to the pseudo-field
``OpportunityContactRole:ContactId``; this module takes it out of the payload, makes
that contact the opportunity's primary contact role once the opportunity is written
(replacing a primary role of another contact), and reads it back into the same
pseudo-field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from crmsync.connectors.base import Payload, RemoteRecord
from crmsync.connectors.salesforce import soql
from crmsync.connectors.salesforce.client import SalesforceClient
from crmsync.connectors.salesforce.mappers import with_type

PROPERTY = "OpportunityContactRole:ContactId"
SOBJECT = "OpportunityContactRole"
ROLE = "Decision Maker"

Query = Callable[[str], Iterator[Mapping[str, Any]]]


def split(payload: Payload) -> tuple[dict[str, Any], str | None]:
    """The payload without the pseudo-field, and the contact id it held (if any)."""
    plain = {k: v for k, v in payload.items() if k != PROPERTY}
    value = payload.get(PROPERTY)
    return plain, (str(value) if value not in (None, "") else None)


def _roles(query: Query, opportunity_ids: Sequence[str]) -> list[Mapping[str, Any]]:
    if not opportunity_ids:
        return []
    literals = ", ".join(soql.quote(i) for i in opportunity_ids)
    columns = "Id, OpportunityId, ContactId, IsPrimary"
    where = f"WHERE OpportunityId IN ({literals}) ORDER BY CreatedDate ASC, Id ASC"
    # values are quoted literals: nothing is injected
    text = f"SELECT {columns} FROM {SOBJECT} {where}"  # noqa: S608
    return list(query(text))


class ContactRoles:
    """Primary contact roles of opportunities."""

    def __init__(self, client: SalesforceClient, query: Query):
        self.client = client
        self.query = query

    def replace(self, wanted: Mapping[str, str]) -> None:
        """Make each contact (opportunity id -> contact id) its opportunity's primary
        contact role; primary roles of other contacts go."""
        if not wanted:
            return
        roles = _roles(self.query, sorted(wanted))
        has = {(str(r["OpportunityId"]), str(r["ContactId"])) for r in roles if r.get("IsPrimary")}
        stale = [
            str(r["Id"])
            for r in roles
            if r.get("IsPrimary")
            and str(r["OpportunityId"]) in wanted
            and wanted[str(r["OpportunityId"])] != str(r["ContactId"])
        ]
        if stale:
            self.client.delete(stale)
        fresh = [
            with_type(
                SOBJECT,
                {"OpportunityId": opp, "ContactId": contact, "IsPrimary": True, "Role": ROLE},
            )
            for opp, contact in sorted(wanted.items())
            if (opp, contact) not in has
        ]
        for start in range(0, len(fresh), 200):
            self.client.create(fresh[start : start + 200])

    def attach(self, records: list[RemoteRecord]) -> list[RemoteRecord]:
        """The opportunities with their primary contact in the pseudo-field."""
        primary: dict[str, str] = {}
        for role in _roles(self.query, [r.remote_id for r in records]):
            if role.get("IsPrimary"):
                primary.setdefault(str(role["OpportunityId"]), str(role["ContactId"]))
        return [
            RemoteRecord(
                r.remote_id,
                {**r.properties, PROPERTY: primary[r.remote_id]},
                r.modified_at,
                r.archived,
                r.field_times,
            )
            if r.remote_id in primary
            else r
            for r in records
        ]
