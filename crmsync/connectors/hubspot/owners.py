"""HubSpot owners: ``GET /crm/v3/owners`` (active) and ``?archived=true`` (deactivated),
paged by ``after``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from crmsync.connectors.hubspot.client import HubSpotClient
from crmsync.connectors.owners import RemoteOwner, full_name

PAGE = 100


def _pages(client: HubSpotClient, archived: bool) -> Iterator[Mapping[str, Any]]:
    after: str | None = None
    while True:
        params = {"limit": str(PAGE), "archived": "true" if archived else "false"}
        if after:
            params["after"] = after
        body = client.http.get("/crm/v3/owners", params=params).json()
        yield from body.get("results") or []
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


def list_owners(client: HubSpotClient) -> list[RemoteOwner]:
    return [
        RemoteOwner(
            remote_id=str(owner["id"]),
            email=owner.get("email"),
            name=full_name(owner.get("firstName"), owner.get("lastName")),
            active=not archived,
        )
        for archived in (False, True)
        for owner in _pages(client, archived)
    ]
