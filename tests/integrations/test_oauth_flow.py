"""The OAuth authorization-code flow against the HubSpot sandbox, over sockets."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.integrations import oauth
from crmsync.integrations.keys import vault_for
from crmsync.records.errors import RecordInvalid
from crmsync.sandbox.hubspot.sandbox import HubSpotSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.store.models import Integration, OAuthState
from crmsync.workspaces import create_workspace
from tests.conftest import Tenant


def consent(api: TestClient, tenant: Tenant, **params: Any) -> dict[str, list[str]]:
    """Ask crmsync where to go, approve at the provider, return the callback's query."""
    started = api.get("/api/v1/oauth/hubspot/authorize", params=params, headers=tenant.headers())
    assert started.status_code == 200, started.text
    url = started.json()["authorize_url"]
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    approved = httpx.get(url)  # the user's browser at the provider's consent page
    assert approved.status_code == 302
    back = urlparse(approved.headers["location"])
    assert back.path == "/api/v1/oauth/hubspot/callback"
    return parse_qs(back.query)


JSON_ONLY = {"Accept": "application/json"}


def callback(api: TestClient, query: dict[str, list[str]]) -> httpx.Response:
    params = {"code": query["code"][0], "state": query["state"][0]}
    return api.get("/api/v1/oauth/hubspot/callback", params=params, headers=JSON_ONLY)


def test_authorize_callback_refresh_and_reconnect(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    url = hubspot.url("hubspot")
    finished = callback(api, consent(api, tenant, base_url=url, name="Portal"))
    assert finished.status_code == 200, finished.text
    made = finished.json()["integration"]
    assert (made["status"], made["name"], made["base_url"]) == ("connected", "Portal", url)
    assert set(made["credentials"]) == {"access_token", "refresh_token", "expires_at"}
    assert made["credentials"]["access_token"].count("…") == 1
    iid = made["id"]
    mine = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers())
    assert mine.status_code == 200
    assert api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()["ok"]

    renewed = api.post(f"/api/v1/integrations/{iid}/refresh", headers=tenant.headers()).json()
    assert renewed["ok"] is True
    assert (
        renewed["integration"]["credentials"]["access_token"] != made["credentials"]["access_token"]
    )

    sandbox.tokens.forget_issued()  # the user uninstalled the app: the grant is gone
    refused = api.post(f"/api/v1/integrations/{iid}/refresh", headers=tenant.headers()).json()
    assert refused["ok"] is False
    assert refused["integration"]["status"] == "needs_auth"
    assert f"/api/v1/oauth/hubspot/authorize?integration_id={iid}" in refused["message"]

    again = callback(api, consent(api, tenant, integration_id=iid))
    assert again.status_code == 200, again.text
    assert again.json()["integration"]["id"] == iid
    assert again.json()["integration"]["status"] == "connected"
    listed = api.get("/api/v1/integrations", headers=tenant.headers()).json()["items"]
    assert [i["id"] for i in listed] == [iid]
    assert api.post(f"/api/v1/integrations/{iid}/refresh", headers=tenant.headers()).json()["ok"]
    assert api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()["ok"]


def test_a_forged_or_reused_state_is_refused(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    query = consent(api, tenant, base_url=hubspot.url("hubspot"))
    state = query["state"][0]
    forged = state[:-4] + ("AAAA" if not state.endswith("AAAA") else "BBBB")
    answer = api.get(
        "/api/v1/oauth/hubspot/callback",
        params={"code": query["code"][0], "state": forged},
        headers=JSON_ONLY,
    )
    assert answer.status_code == 422 and "state" in answer.json()["error"]["message"]
    assert callback(api, query).status_code == 200
    reused = callback(api, query)  # a state is taken once
    assert reused.status_code == 422 and "already used" in reused.json()["error"]["message"]
    denied = api.get("/api/v1/oauth/hubspot/callback", params={"error": "access_denied"})
    assert denied.status_code == 400 and "access_denied" in denied.text


def test_state_expires_and_is_stored_hashed(
    sessions: sessionmaker[Session], hubspot: SandboxServer
) -> None:
    settings = Settings(
        mode="test", sandbox_mode=True, hubspot_client_id="id", hubspot_client_secret="secret"
    )
    vault = vault_for(settings)
    with sessions() as session:
        workspace = create_workspace(session, f"ws-{uuid.uuid4().hex[:6]}")
        key, _ = create_api_key(session, workspace.id, Role.ADMIN)
        started = oauth.start(
            session,
            vault,
            settings,
            workspace.id,
            key.id,
            "hubspot",
            base_url=hubspot.url("hubspot"),
            clock=lambda: 1000.0,
        )
        assert started.expires_at == 1000.0 + oauth.STATE_TTL
        # the state is a random token: nothing of the intent is in it or in the URL
        assert str(workspace.id) not in started.url and "hubspot" not in started.state
        row = session.scalar(select(OAuthState).where(OAuthState.workspace_id == workspace.id))
        assert row is not None and started.state not in (row.state_hash, row.intent.decode())
        with pytest.raises(RecordInvalid, match="expired"):
            oauth.claim(
                session,
                vault,
                "hubspot",
                started.state,
                clock=lambda: 1000.0 + oauth.STATE_TTL + 1,
            )
        within = oauth.claim(session, vault, "hubspot", started.state, clock=lambda: 1001.0)
        assert (within.workspace_id, within.api_key_id) == (workspace.id, key.id)
        assert within.verifier and within.base_url == hubspot.url("hubspot")
        session.rollback()


def test_authorize_needs_the_providers_oauth_app(client: TestClient, tenant: Tenant) -> None:
    answer = client.get("/api/v1/oauth/hubspot/authorize", headers=tenant.headers())
    assert answer.status_code == 422
    assert "CRMSYNC_HUBSPOT_CLIENT_ID" in answer.json()["error"]["message"]
    viewer = client.get("/api/v1/oauth/hubspot/authorize", headers=tenant.headers("viewer"))
    assert viewer.status_code == 403


def test_a_refused_refresh_during_a_call_asks_for_reconnection(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox
) -> None:
    made = callback(api, consent(api, tenant, base_url=hubspot.url("hubspot"))).json()
    iid = made["integration"]["id"]
    expired = {"access_token": "C-expired", "refresh_token": "revoked", "expires_at": 1}
    api.patch(
        f"/api/v1/integrations/{iid}", json={"credentials": expired}, headers=tenant.headers()
    )
    tested = api.post(f"/api/v1/integrations/{iid}/test", headers=tenant.headers()).json()
    assert tested["ok"] is False
    assert f"authorize?integration_id={iid}" in tested["message"]
    fields = api.get(f"/api/v1/integrations/{iid}/fields", headers=tenant.headers())
    assert fields.status_code == 409 and fields.json()["error"]["code"] == "needs_auth"
    shown = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert shown["status"] == "needs_auth" and shown["error_count"] == 2


def test_an_unreachable_token_endpoint_is_a_502(api: TestClient, tenant: Tenant) -> None:
    # loopback is allowed in sandbox mode; nothing listens on port 1
    started = api.get(
        "/api/v1/oauth/hubspot/authorize",
        params={"base_url": "http://127.0.0.1:1", "name": "gone"},
        headers=tenant.headers(),
    )
    assert started.status_code == 200, started.text
    answer = api.get(
        "/api/v1/oauth/hubspot/callback",
        params={"code": "c", "state": started.json()["state"]},
        headers=JSON_ONLY,
    )
    assert answer.status_code == 502, answer.text
    assert answer.json()["error"]["code"] == "crm_unreachable"


def test_hubspot_tokens_are_sealed_and_a_deleted_refresh_token_asks_for_reconnection(
    api: TestClient, tenant: Tenant, hubspot: SandboxServer, sandbox: HubSpotSandbox, db: Session
) -> None:
    made = callback(api, consent(api, tenant, base_url=hubspot.url("hubspot"))).json()
    iid = uuid.UUID(made["integration"]["id"])
    row = db.get(Integration, iid)
    assert row is not None and row.credentials is not None
    settings = api.app.state.settings  # type: ignore[attr-defined]
    clear = vault_for(settings).decrypt_json(
        row.credentials.decode(), workspace_id=row.workspace_id, integration_id=row.id
    )
    refresh_token = str(clear["refresh_token"])
    assert refresh_token.encode() not in row.credentials
    assert str(clear["access_token"]).encode() not in row.credentials
    # the portal's admin uninstalls the app: HubSpot deletes the refresh token
    deleted = httpx.delete(f"{hubspot.url('hubspot')}/oauth/v1/refresh-tokens/{refresh_token}")
    assert deleted.status_code == 204
    refused = api.post(f"/api/v1/integrations/{iid}/refresh", headers=tenant.headers()).json()
    assert refused["ok"] is False and refused["integration"]["status"] == "needs_auth"
