"""Pipedrive endpoints on the shared HTTP layer.

Records of entities that have a v2 API go through ``/api/v2`` (cheaper in tokens, cursor
paging, ``updated_since``); leads and notes, which have none, through ``/v1``. Search
spends from a rate window of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from crmsync.connectors.http import ConnectorHttp
from crmsync.connectors.pipedrive.mappers import Entity

__all__ = ["PAGE", "PipedriveClient"]

PAGE = 500


def _data(body: Any) -> Any:
    return body.get("data") if isinstance(body, Mapping) else None


class PipedriveClient:
    """Thin calls: each returns the ``data`` (and paging) of Pipedrive's envelope."""

    def __init__(
        self, http: ConnectorHttp, search_http: ConnectorHttp | None = None, page_size: int = PAGE
    ):
        self.http = http
        self.search_http = search_http or http
        self.page_size = page_size

    def _base(self, entity: Entity) -> str:
        return f"/api/v2/{entity.plural}" if entity.v2 else f"/v1/{entity.plural}"

    def fields(self, path: str) -> list[Mapping[str, Any]]:
        """Every field definition of an entity's *Fields endpoint, custom ones included."""
        found: list[Mapping[str, Any]] = []
        start = 0
        while True:
            body = self.http.get(path, params={"start": start, "limit": self.page_size}).json()
            found += list(_data(body) or [])
            paging = ((body.get("additional_data") or {}).get("pagination")) or {}
            if not paging.get("more_items_in_collection"):
                return found
            start = int(paging.get("next_start", start + self.page_size))

    def search(self, entity: Entity, field: str, term: str) -> list[Mapping[str, Any]]:
        """Records whose ``field`` equals ``term`` (case-insensitive exact match)."""
        params = {"term": term, "fields": field, "exact_match": "true", "limit": "10"}
        base = self._base(entity)
        body = self.search_http.get(f"{base}/search", params=params).json()
        items = (_data(body) or {}).get("items") or []
        return [i["item"] for i in items if isinstance(i, Mapping) and "item" in i]

    def create(self, entity: Entity, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """A new record; its JSON."""
        return dict(_data(self.http.post(self._base(entity), json=dict(body)).json()) or {})

    def update(self, entity: Entity, remote_id: str, body: Mapping[str, Any]) -> Mapping[str, Any]:
        """Change one record (v2 and leads PATCH, v1 PUT); its JSON."""
        path = f"{self._base(entity)}/{remote_id}"
        if entity.v2 or entity.plural == "leads":
            response = self.http.patch(path, json=dict(body), idempotent=True)
        else:
            response = self.http.put(path, json=dict(body))
        return dict(_data(response.json()) or {})

    def delete_many(self, entity: Entity, remote_ids: Sequence[str]) -> None:
        """v1 bulk delete (persons, organizations, deals, activities)."""
        self.http.delete(f"/v1/{entity.plural}", params={"ids": ",".join(remote_ids)})

    def delete_one(self, entity: Entity, remote_id: str) -> None:
        """Delete one record."""
        self.http.delete(f"{self._base(entity)}/{remote_id}")

    def merge(self, entity: Entity, remote_id: str, into_id: str) -> Mapping[str, Any]:
        """``PUT /v1/{entity}/{id}/merge``: ``remote_id`` folds into ``into_id``."""
        path = f"/v1/{entity.plural}/{remote_id}/merge"
        response = self.http.put(path, json={"merge_with_id": int(into_id)}, idempotent=False)
        return dict(_data(response.json()) or {})

    def updated_since(
        self, entity: Entity, since: str, cursor: str | None
    ) -> tuple[list[Mapping[str, Any]], str | None]:
        """One v2 page of records updated at or after ``since``, oldest first."""
        params = {
            "updated_since": since,
            "sort_by": "update_time",
            "sort_direction": "asc",
            "limit": str(self.page_size),
        }
        if cursor:
            params["cursor"] = cursor
        body = self.http.get(self._base(entity), params=params).json()
        following = (body.get("additional_data") or {}).get("next_cursor")
        return list(_data(body) or []), str(following) if following else None

    def by_ids(self, entity: Entity, remote_ids: Sequence[str]) -> list[Mapping[str, Any]]:
        """``GET /api/v2/{entity}?ids=…`` (at most 100 ids)."""
        params = {"ids": ",".join(str(i) for i in remote_ids), "limit": str(len(remote_ids))}
        body = self.http.get(self._base(entity), params=params).json()
        return list(_data(body) or [])

    def recents(
        self, singular: str, since: str, start: int
    ) -> tuple[list[Mapping[str, Any]], int | None]:
        """One v1 page of ``{item, id, data}`` changed at or after ``since``, deleted
        records included."""
        params = {
            "since_timestamp": since,
            "items": singular,
            "start": start,
            "limit": self.page_size,
        }
        body = self.http.get("/v1/recents", params=params).json()
        additional = body.get("additional_data") or {}
        paging = additional.get("pagination") or additional
        following = start + self.page_size if paging.get("more_items_in_collection") else None
        return list(_data(body) or []), following

    def close(self) -> None:
        """Close the shared connection pool."""
        self.http.close()
