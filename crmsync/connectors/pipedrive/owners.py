"""Pipedrive users: ``GET /v1/users`` (one answer with every user of the company)."""

from __future__ import annotations

from crmsync.connectors.owners import RemoteOwner
from crmsync.connectors.pipedrive.client import PipedriveClient


def list_owners(client: PipedriveClient) -> list[RemoteOwner]:
    body = client.http.get("/v1/users").json()
    return [
        RemoteOwner(
            remote_id=str(user["id"]),
            email=user.get("email"),
            name=str(user.get("name") or ""),
            active=bool(user.get("active_flag", True)),
        )
        for user in (body.get("data") or [])
    ]
