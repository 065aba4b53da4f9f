"""HubSpot CRM v3 endpoints on the shared HTTP layer.

Search has its own rate budget (5 per second per account), so it goes through a second
``ConnectorHttp`` that shares the connection pool but spends the search budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from crmsync.connectors.http import ConnectorHttp

__all__ = ["SEARCH_PAGE", "HubSpotClient"]

SEARCH_PAGE = 200
LIST_PAGE = 100


class HubSpotClient:
    """Thin calls: each returns HubSpot's JSON (or the raw response for batch writes)."""

    def __init__(self, http: ConnectorHttp, search_http: ConnectorHttp | None = None):
        self.http = http
        self.search_http = search_http or http

    def properties(self, object_type: str) -> list[Mapping[str, Any]]:
        """Every property definition of ``object_type``, custom ones included."""
        body = self.http.get(f"/crm/v3/properties/{object_type}").json()
        return list(body.get("results") or [])

    def batch(self, object_type: str, action: str, inputs: Sequence[Mapping[str, Any]]) -> Any:
        """``POST …/batch/{action}``; the JSON body of a 200/201/207, ``None`` for a 204."""
        response: httpx.Response = self.http.post(
            f"/crm/v3/objects/{object_type}/batch/{action}",
            json={"inputs": list(inputs)},
            # create is the one write that is not safe to repeat blindly
            idempotent=action != "create",
        )
        return None if response.status_code == 204 else response.json()

    def search_modified(
        self, object_type: str, field: str, since_ms: int, after: int, properties: Sequence[str]
    ) -> Mapping[str, Any]:
        """One page of records modified at or after ``since_ms``, oldest first."""
        body: dict[str, Any] = {
            "filterGroups": [
                {"filters": [{"propertyName": field, "operator": "GTE", "value": str(since_ms)}]}
            ],
            "sorts": [{"propertyName": field, "direction": "ASCENDING"}],
            "limit": SEARCH_PAGE,
        }
        if after:
            body["after"] = str(after)
        if properties:
            body["properties"] = list(properties)
        # a search changes nothing: retrying it is safe
        return dict(
            self.search_http.post(
                f"/crm/v3/objects/{object_type}/search", json=body, idempotent=True
            ).json()
        )

    def read_with_history(
        self, object_type: str, ids: Sequence[str], properties: Sequence[str]
    ) -> list[Mapping[str, Any]]:
        """``POST …/batch/read`` of ``ids`` with ``propertiesWithHistory`` for
        ``properties``: each property's value and when it was written."""
        body = {
            "inputs": [{"id": i} for i in ids],
            "properties": list(properties),
            "propertiesWithHistory": list(properties),
        }
        # a read changes nothing: retrying it is safe
        answer = self.http.post(
            f"/crm/v3/objects/{object_type}/batch/read", json=body, idempotent=True
        ).json()
        return list(answer.get("results") or [])

    def archived_page(self, object_type: str, after: str | None) -> Mapping[str, Any]:
        """One page of archived records (search never shows them)."""
        params: dict[str, str] = {"archived": "true", "limit": str(LIST_PAGE)}
        if after:
            params["after"] = after
        return dict(self.http.get(f"/crm/v3/objects/{object_type}", params=params).json())

    def owner_id_by_email(self, email: str) -> str | None:
        """The id of the active owner with ``email``, if any."""
        body = self.http.get("/crm/v3/owners", params={"email": email, "limit": "1"}).json()
        results = body.get("results") or []
        return str(results[0]["id"]) if results else None

    def merge(self, object_type: str, primary_id: str, merged_id: str) -> Mapping[str, Any]:
        """``POST …/merge``: ``merged_id`` folds into ``primary_id``; the merged record."""
        body = {"primaryObjectId": str(primary_id), "objectIdToMerge": str(merged_id)}
        # a repeated merge is refused (the merged id now resolves to the primary)
        response = self.http.post(
            f"/crm/v3/objects/{object_type}/merge", json=body, idempotent=False
        )
        return dict(response.json())

    def close(self) -> None:
        """Close the shared connection pool."""
        self.http.close()
