"""Salesforce REST endpoints on the shared HTTP layer, and the org's API usage.

Every answer carries ``Sforce-Limit-Info: api-usage=used/allocation``. The client keeps
the last figure and, once the org's allocation is spent, holds the integration's rate
limiter for an hour, so the next calls are refused locally as ``RateLimited`` instead
of spending requests the org no longer has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from crmsync.connectors.http import ConnectorHttp
from crmsync.connectors.http.error_hooks import DAILY_QUOTA_WAIT
from crmsync.connectors.salesforce.mappers import ApiUsage, parse_limit_info

__all__ = ["API_VERSION", "QUERY_BATCH", "SalesforceClient"]

API_VERSION = "59.0"
QUERY_BATCH = 2000
_DATA = f"/services/data/v{API_VERSION}"


class SalesforceClient:
    """Thin calls returning Salesforce's JSON."""

    def __init__(self, http: ConnectorHttp, *, reserve: int = 0):
        self.http = http
        self.usage: ApiUsage | None = None
        self._reserve = reserve  # requests left untouched for the org's other integrations
        http.client.event_hooks["response"].append(self._read_usage)

    def _read_usage(self, response: httpx.Response) -> None:
        usage = parse_limit_info(response.headers.get("sforce-limit-info"))
        if usage is None:
            return
        self.usage = usage
        if usage.remaining <= self._reserve and self.http.limiter is not None:
            self.http.limiter.penalize(DAILY_QUOTA_WAIT)

    def describe(self, sobject: str) -> Mapping[str, Any]:
        """``GET sobjects/{sobject}/describe``."""
        return dict(self.http.get(f"{_DATA}/sobjects/{sobject}/describe").json())

    def create(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``POST composite/sobjects``: SaveResults in input order."""
        body = {"allOrNone": False, "records": list(records)}
        return list(self.http.post(f"{_DATA}/composite/sobjects", json=body).json())

    def update(self, records: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """``PATCH composite/sobjects`` (records carry ``id``)."""
        body = {"allOrNone": False, "records": list(records)}
        url = f"{_DATA}/composite/sobjects"
        return list(self.http.patch(url, json=body, idempotent=True).json())

    def upsert(
        self, sobject: str, key: str, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """``PATCH composite/sobjects/{sobject}/{key}``: upsert by an external id."""
        body = {"allOrNone": False, "records": list(records)}
        url = f"{_DATA}/composite/sobjects/{sobject}/{key}"
        return list(self.http.patch(url, json=body, idempotent=True).json())

    def delete(self, ids: Sequence[str]) -> list[Mapping[str, Any]]:
        """``DELETE composite/sobjects?ids=…``."""
        params = {"ids": ",".join(ids), "allOrNone": "false"}
        return list(self.http.delete(f"{_DATA}/composite/sobjects", params=params).json())

    def query(self, soql: str, *, include_deleted: bool = False) -> Mapping[str, Any]:
        """The first page of a SOQL query (``queryAll`` with deleted rows)."""
        resource = "queryAll" if include_deleted else "query"
        headers = {"Sforce-Query-Options": f"batchSize={QUERY_BATCH}"}
        return dict(
            self.http.get(f"{_DATA}/{resource}", params={"q": soql}, headers=headers).json()
        )

    def more(self, next_url: str) -> Mapping[str, Any]:
        """The page behind a ``nextRecordsUrl`` (a path on the instance)."""
        return dict(self.http.get(next_url).json())

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
