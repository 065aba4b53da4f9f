"""The OAuth state: bound to the workspace and API key that asked, taken once, expiring."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from crmsync.auth.keys import authenticate, revoke_api_key
from crmsync.auth.permissions import Role
from crmsync.sandbox.server import SandboxServer
from crmsync.store.models import OAuthState
from tests.conftest import Tenant

JSON_ONLY = {"Accept": "application/json"}
CALLBACK = "/api/v1/oauth/hubspot/callback"


def approved(api: TestClient, tenant: Tenant, hubspot: SandboxServer) -> dict[str, str]:
    started = api.get(
        "/api/v1/oauth/hubspot/authorize",
        params={"base_url": hubspot.url("hubspot")},
        headers=tenant.headers(),
    )
    assert started.status_code == 200, started.text
    back = httpx.get(started.json()["authorize_url"])
    return {k: v[0] for k, v in parse_qs(urlparse(back.headers["location"]).query).items()}


def message(answer: httpx.Response) -> str:
    text: str = answer.json()["error"]["message"]
    return text


def test_a_state_is_taken_once(api: TestClient, tenant: Tenant, hubspot: SandboxServer) -> None:
    query = approved(api, tenant, hubspot)
    first = api.get(CALLBACK, params=query, headers=JSON_ONLY)
    assert first.status_code == 200, first.text
    replayed = api.get(CALLBACK, params=query, headers=JSON_ONLY)
    assert replayed.status_code == 422 and "already used" in message(replayed)
    # a fresh code with the used state is no better
    again = approved(api, tenant, hubspot)
    mixed = api.get(CALLBACK, params={**again, "state": query["state"]}, headers=JSON_ONLY)
    assert mixed.status_code == 422 and "already used" in message(mixed)
    listed = api.get("/api/v1/integrations", headers=tenant.headers()).json()["items"]
    assert len(listed) == 1


def test_a_state_used_by_a_failed_exchange_is_spent(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    query = approved(api, tenant, hubspot)
    wrong = api.get(CALLBACK, params={**query, "code": "not-a-code"}, headers=JSON_ONLY)
    assert wrong.status_code == 422 and "refused" in message(wrong)
    retried = api.get(CALLBACK, params=query, headers=JSON_ONLY)
    assert retried.status_code == 422 and "already used" in message(retried)


def test_an_expired_state_is_refused(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, db: Session
) -> None:
    query = approved(api, tenant, hubspot)
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.execute(
        update(OAuthState).where(OAuthState.workspace_id == tenant.id).values(expires_at=past)
    )
    db.commit()
    answer = api.get(CALLBACK, params=query, headers=JSON_ONLY)
    assert answer.status_code == 422 and "expired" in message(answer)
    assert api.get("/api/v1/integrations", headers=tenant.headers()).json()["items"] == []


def test_another_workspace_cannot_finish_the_flow(
    api: TestClient,
    tenant: Tenant,
    make_tenant: Callable[[], Tenant],
    hubspot: SandboxServer,
) -> None:
    other = make_tenant()
    query = approved(api, tenant, hubspot)
    relayed = api.get(CALLBACK, params=query, headers={**JSON_ONLY, **other.headers()})
    assert relayed.status_code == 422 and "not valid" in message(relayed)
    assert api.get("/api/v1/integrations", headers=other.headers()).json()["items"] == []
    # another key of the same workspace is not the user who asked either
    colleague = api.get(
        CALLBACK, params=query, headers={**JSON_ONLY, **tenant.headers(Role.MANAGER)}
    )
    assert colleague.status_code == 422
    # refused relays did not use it up: the key that asked finishes it
    mine = api.get(CALLBACK, params=query, headers={**JSON_ONLY, **tenant.headers()})
    assert mine.status_code == 200, mine.text
    assert mine.json()["integration"]["status"] == "connected"
    assert api.get("/api/v1/integrations", headers=other.headers()).json()["items"] == []


def test_a_revoked_key_takes_its_states_with_it(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, db: Session
) -> None:
    query = approved(api, tenant, hubspot)
    principal = authenticate(db, tenant.keys[Role.ADMIN])
    assert principal is not None
    assert revoke_api_key(db, tenant.id, principal.key_id)
    db.commit()
    answer = api.get(CALLBACK, params=query, headers=JSON_ONLY)
    assert answer.status_code == 422 and "revoked" in message(answer)


def test_a_state_of_another_provider_is_refused(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    query = approved(api, tenant, hubspot)
    answer = api.get("/api/v1/oauth/pipedrive/callback", params=query, headers=JSON_ONLY)
    assert answer.status_code == 422 and "not valid" in message(answer)


def test_a_browser_gets_a_page_saying_what_went_wrong(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer
) -> None:
    query = approved(api, tenant, hubspot)
    forged = api.get(CALLBACK, params={**query, "state": "x" + query["state"]})
    assert forged.status_code == 422
    assert forged.headers["content-type"].startswith("text/html")
    assert "not valid" in forged.text and "<script" not in forged.text
    done = api.get(CALLBACK, params=query)
    assert done.status_code == 200 and "HubSpot connected" in done.text
