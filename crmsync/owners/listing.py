"""Which connector module lists a provider's users."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmsync.connectors.base import Connector
from crmsync.connectors.hubspot import owners as hubspot
from crmsync.connectors.owners import OwnersUnsupported, RemoteOwner
from crmsync.connectors.pipedrive import owners as pipedrive
from crmsync.connectors.salesforce import owners as salesforce
from crmsync.connectors.totalexpert import owners as totalexpert

Lister = Callable[[Any], list[RemoteOwner]]
LISTERS: dict[str, Lister] = {
    "hubspot": hubspot.list_owners,
    "salesforce": salesforce.list_owners,
    "pipedrive": pipedrive.list_owners,
    "totalexpert": totalexpert.list_owners,
}


def supports_owners(provider: str) -> bool:
    return provider in LISTERS


def list_owners(connector: Connector) -> list[RemoteOwner]:
    """Every user of the connector's CRM, active or not; ConnectorError on failure."""
    lister = LISTERS.get(connector.provider)
    if lister is None:
        raise OwnersUnsupported(f"{connector.provider} has no API to list its users")
    # every connector with a lister keeps its endpoint calls in ``client``
    return lister(connector.client)  # type: ignore[attr-defined]
