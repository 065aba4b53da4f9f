"""The API quota each CRM reports in its headers, read from the sandboxes' answers."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from crmsync.connectors.http.quota import BOOK, Quota, read_quota
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from tests.connectors.contract.salesforce import SalesforceTarget
from tests.connectors.contract.targets import HubSpotTarget, PipedriveTarget, Target


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            {"Sforce-Limit-Info": "api-usage=18/5000; per-app-api-usage=17/250(appName=x)"},
            [Quota("daily", 18, 5000)],
        ),
        (
            {
                "X-HubSpot-RateLimit-Daily": "250000",
                "X-HubSpot-RateLimit-Daily-Remaining": "249990",
                "X-HubSpot-RateLimit-Max": "100",
                "X-HubSpot-RateLimit-Remaining": "97",
            },
            [Quota("daily", 10, 250000), Quota("burst", 3, 100)],
        ),
        (
            {
                "x-daily-ratelimit-token-limit": "30000",
                "x-daily-ratelimit-token-remaining": "29960",
                "x-ratelimit-limit": "80",
                "x-ratelimit-remaining": "79",
            },
            [Quota("burst", 1, 80), Quota("daily-tokens", 40, 30000)],
        ),
        ({"x-ratelimit-limit": "many"}, []),
        ({}, []),
    ],
)
def test_read_quota(headers: dict[str, str], expected: list[Quota]) -> None:
    import httpx

    found = read_quota(httpx.Headers(headers))
    assert sorted(found, key=lambda q: q.name) == sorted(expected, key=lambda q: q.name)


class _MeteredPipedrive(PipedriveTarget):
    """Pipedrive on its default plan, which meters a daily token budget."""

    def make_sandbox(self, clock: Callable[[], float]) -> PipedriveSandbox:
        return PipedriveSandbox(SandboxOptions(), clock=clock)


@pytest.mark.parametrize(
    ("make", "names"),
    [
        (SalesforceTarget, {"daily"}),
        (HubSpotTarget, {"daily", "burst"}),
        (_MeteredPipedrive, {"daily-tokens", "burst"}),
    ],
    ids=["salesforce", "hubspot", "pipedrive"],
)
def test_each_sandbox_reports_its_quota_and_the_client_notes_it(
    make: Callable[[], Target], names: set[str]
) -> None:
    target = make()
    integration_id = uuid.uuid4()
    try:
        connector = target.connector(integration_id=integration_id)
        try:
            connector.upsert(target.object_type, [target.payload(1)], target.match_key)
        finally:
            connector.close()
    finally:
        target.stop()
    seen = {q.name: q for key, q, _at in BOOK.take_dirty() if key == integration_id}
    assert set(seen) >= names
    for quota in seen.values():
        assert quota.limit > 0 and 0 < quota.used <= quota.limit
