"""Salesforce users (record owners are users): a SOQL query on ``User``, paged by
``nextRecordsUrl``."""

from __future__ import annotations

from crmsync.connectors.owners import RemoteOwner, full_name
from crmsync.connectors.salesforce.client import SalesforceClient

QUERY = "SELECT Id, Email, FirstName, LastName, IsActive FROM User ORDER BY Id"


def list_owners(client: SalesforceClient) -> list[RemoteOwner]:
    owners = []
    page = client.query(QUERY)
    while True:
        for row in page.get("records") or []:
            owners.append(
                RemoteOwner(
                    remote_id=str(row["Id"]),
                    email=row.get("Email"),
                    name=full_name(row.get("FirstName"), row.get("LastName")),
                    active=bool(row.get("IsActive", True)),
                )
            )
        following = page.get("nextRecordsUrl")
        if page.get("done", True) or not following:
            return owners
        page = client.more(str(following))
