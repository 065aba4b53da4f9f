"""The users of a CRM who can own records (HubSpot owners, Salesforce users, Pipedrive
users, Total Expert users), as each connector's ``owners`` module lists them.

Each connector folder that can list them has an ``owners`` module with
``list_owners(client) -> list[RemoteOwner]`` paging through its CRM's listing
(``crmsync.owners.listing`` picks it by provider).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crmsync.connectors.errors import ConfigError

__all__ = ["OwnersUnsupported", "RemoteOwner", "full_name"]


@dataclass(frozen=True, slots=True)
class RemoteOwner:
    """One CRM user. ``remote_id`` is what the CRM's owner fields hold (HubSpot
    ``hubspot_owner_id``, Salesforce ``OwnerId``, Pipedrive ``owner_id``, Total Expert
    ``owner.id``); ``aliases`` are other handles the CRM also takes for the user
    (Total Expert usernames and external ids)."""

    remote_id: str
    email: str | None
    name: str = ""
    active: bool = True
    aliases: tuple[str, ...] = field(default=())


class OwnersUnsupported(ConfigError):
    """The provider has no API to list its users."""


def full_name(*parts: Any) -> str:
    return " ".join(str(p) for p in parts if p)
