"""Total Expert users: ``GET /v1/users``, paged by ``page[number]``/``page[size]``.
An ``owner`` relationship also takes a user's username or external id (aliases)."""

from __future__ import annotations

from crmsync.connectors.owners import RemoteOwner, full_name
from crmsync.connectors.totalexpert.client import PAGE, TotalExpertClient


def list_owners(client: TotalExpertClient) -> list[RemoteOwner]:
    owners = []
    page: int | None = 1
    while page is not None:
        params = {"page[number]": str(page), "page[size]": str(PAGE)}
        body = client.http.get("/v1/users", params=params).json()
        for user in body.get("items") or []:
            aliases = tuple(str(user[k]) for k in ("username", "external_id") if user.get(k))
            owners.append(
                RemoteOwner(
                    remote_id=str(user["id"]),
                    email=user.get("email"),
                    name=full_name(user.get("first_name"), user.get("last_name")),
                    active=bool(user.get("is_active", True)),
                    aliases=aliases,
                )
            )
        following = (body.get("links") or {}).get("next")
        page = int(following) if following and int(following) != page else None
    return owners
