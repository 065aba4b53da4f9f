"""OAuth end to end for Salesforce and Pipedrive, client credentials for Total Expert and
Salesforce, each against its sandbox over real sockets: consent, callback, tokens sealed,
renewal, a revoked grant, ``needs_auth``, reconnection."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from crmsync.config import Settings
from crmsync.integrations.connection import Wiring
from crmsync.integrations.keys import vault_for
from crmsync.sandbox.pipedrive.sandbox import PipedriveSandbox
from crmsync.sandbox.salesforce import Sandbox as SalesforceSandbox
from crmsync.sandbox.server import SandboxServer
from crmsync.sandbox.totalexpert.sandbox import TotalExpertSandbox
from crmsync.store.models import Integration
from tests.conftest import Tenant, create_test_app

APP_URL = "https://app.example.com/crm/connected"


class Recorder(httpx.BaseTransport):
    """A real HTTP transport that notes the host and path of every request it sends."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.calls: list[tuple[str, str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.url.host, request.url.path))
        return self.inner.handle_request(request)


@pytest.fixture(scope="module")
def crms() -> Iterator[SandboxServer]:
    sandboxes = [SalesforceSandbox(), PipedriveSandbox(), TotalExpertSandbox()]
    with SandboxServer(sandboxes) as server:  # type: ignore[arg-type]
        yield server


def _salesforce(crms: SandboxServer) -> SalesforceSandbox:
    found = crms.get("salesforce").sandbox
    assert isinstance(found, SalesforceSandbox)
    return found


def _pipedrive(crms: SandboxServer) -> PipedriveSandbox:
    found = crms.get("pipedrive").sandbox
    assert isinstance(found, PipedriveSandbox)
    return found


def _totalexpert(crms: SandboxServer) -> TotalExpertSandbox:
    found = crms.get("totalexpert").sandbox
    assert isinstance(found, TotalExpertSandbox)
    return found


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


def _app(database_url: str, engine: Engine, crms: SandboxServer, **extra: Any) -> FastAPI:
    salesforce = _salesforce(crms).org.tokens.default_app
    pipedrive = _pipedrive(crms).oauth
    return create_test_app(
        database_url,
        engine,
        sandbox_mode=True,
        salesforce_client_id=salesforce.client_id,
        salesforce_client_secret=salesforce.client_secret,
        pipedrive_client_id=pipedrive.client_id,
        pipedrive_client_secret=pipedrive.client_secret,
        **extra,
    )


@pytest.fixture(scope="module")
def web(
    database_url: str, engine: Engine, crms: SandboxServer, recorder: Recorder
) -> Iterator[TestClient]:
    """crmsync with no app URL: the callback answers a page of its own."""
    app = _app(database_url, engine, crms)
    app.state.connector_wiring = Wiring(transport=recorder)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(scope="module")
def with_app_url(database_url: str, engine: Engine, crms: SandboxServer) -> Iterator[TestClient]:
    """crmsync with CRMSYNC_APP_URL: the callback redirects the browser there."""
    with TestClient(_app(database_url, engine, crms, app_url=APP_URL)) as client:
        yield client


def consent(api: TestClient, tenant: Tenant, provider: str, **body: Any) -> dict[str, str]:
    """Start the flow with a sync config, approve at the sandbox, return the callback query."""
    started = api.post(f"/api/v1/oauth/{provider}/authorize", json=body, headers=tenant.headers())
    assert started.status_code == 200, started.text
    approved = httpx.get(started.json()["authorize_url"])  # the user's browser
    assert approved.status_code == 302, approved.text
    back = urlparse(approved.headers["location"])
    assert back.path == f"/api/v1/oauth/{provider}/callback"
    return {k: v[0] for k, v in parse_qs(back.query).items()}


def sealed(db: Session, settings: Settings, iid: str) -> tuple[bytes, dict[str, Any]]:
    """The integration's stored credentials: the raw column, and what it decrypts to."""
    db.expire_all()
    row = db.get(Integration, uuid.UUID(iid))
    assert row is not None and row.credentials is not None
    clear = vault_for(settings).decrypt_json(
        row.credentials.decode(), workspace_id=row.workspace_id, integration_id=row.id
    )
    return row.credentials, {k: clear[k] for k in clear}


def post(api: TestClient, tenant: Tenant, path: str) -> dict[str, Any]:
    answer = api.post(path, headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def test_salesforce_web_server_flow_with_pkce(
    web: TestClient, tenant: Tenant, crms: SandboxServer, recorder: Recorder, db: Session
) -> None:
    sandbox = _salesforce(crms)
    login = crms.url("salesforce")  # the login host: http://127.0.0.1:<port>
    port = urlparse(login).port
    # the org lives on another host than the login one, as on Salesforce
    sandbox.org.instance_url = f"http://localhost:{port}"
    settings: Settings = web.app.state.settings  # type: ignore[attr-defined]
    try:
        config = {"objects": {"contacts": "both", "leads": "inbound"}, "frequency": "15m"}
        started = web.post(
            "/api/v1/oauth/salesforce/authorize",
            json={"name": "Org", "base_url": login, "config": config},
            headers=tenant.headers(),
        ).json()
        page = urlparse(started["authorize_url"])
        query = parse_qs(page.query)
        assert (page.hostname, page.path) == ("127.0.0.1", "/services/oauth2/authorize")
        assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
        assert query["scope"] == ["api refresh_token"]

        back = consent(web, tenant, "salesforce", name="Org", base_url=login, config=config)
        # a browser without CRMSYNC_APP_URL gets a page, not JSON
        done = web.get("/api/v1/oauth/salesforce/callback", params=back)
        assert done.status_code == 200, done.text
        assert done.headers["content-type"].startswith("text/html")
        assert "Salesforce connected" in done.text and "Org" in done.text
        made = web.get("/api/v1/integrations", headers=tenant.headers()).json()["items"]
        assert len(made) == 1
        iid = made[0]["id"]
        assert iid in done.text
        assert made[0]["config"]["objects"] == config["objects"]
        assert made[0]["config"]["frequency"] == "15m"
        assert made[0]["base_url"] == login

        raw, clear = sealed(db, settings, iid)
        assert clear["instance_url"] == f"http://localhost:{port}"
        assert "expires_at" not in clear  # Salesforce's token answer has no expires_in
        assert clear["access_token"].encode() not in raw
        assert clear["refresh_token"].encode() not in raw

        recorder.calls.clear()
        assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
        assert {host for host, path in recorder.calls if "/services/data/" in path} == {"localhost"}

        # the pass-through goes to the instance too, and shows Salesforce's usage header
        recorder.calls.clear()
        limits = web.post(
            f"/api/v1/integrations/{iid}/proxy",
            json={"path": "/services/data/v59.0/limits"},
            headers=tenant.headers(),
        ).json()
        assert limits["status"] == 200 and "sforce-limit-info" in limits["headers"]
        assert recorder.calls == [("localhost", "/services/data/v59.0/limits")]

        # the session times out: the next call is refused once, refreshed, and retried
        sandbox.org.tokens.expire_sessions()
        recorder.calls.clear()
        assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
        assert ("127.0.0.1", "/services/oauth2/token") in recorder.calls
        _, renewed = sealed(db, settings, iid)
        assert renewed["access_token"] != clear["access_token"]
        assert renewed["refresh_token"] == clear["refresh_token"]

        # the user revokes crmsync's access in Salesforce
        revoked = httpx.post(
            f"{login}/services/oauth2/revoke", data={"token": clear["refresh_token"]}
        )
        assert revoked.status_code == 200
        sandbox.org.tokens.expire_sessions()
        refused = post(web, tenant, f"/api/v1/integrations/{iid}/test")
        assert refused["ok"] is False
        assert f"/api/v1/oauth/salesforce/authorize?integration_id={iid}" in refused["message"]
        shown = web.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
        assert shown["status"] == "needs_auth"

        again = consent(web, tenant, "salesforce", integration_id=iid)
        reconnected = web.get("/api/v1/oauth/salesforce/callback", params=again)
        assert reconnected.status_code == 200 and "reconnected" in reconnected.text
        assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
        shown = web.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
        assert shown["status"] == "connected"
    finally:
        sandbox.org.instance_url = None


def test_salesforce_authorize_on_login_test_and_my_domain_hosts() -> None:
    from crmsync.connectors.salesforce.spec import OAUTH

    authorize_url = OAUTH.authorize_url

    for base in (
        "https://login.salesforce.com",
        "https://test.salesforce.com",
        "https://acme.my.salesforce.com",
    ):
        url = urlparse(authorize_url(base, "cid", "https://crm/cb", "st", "ch"))
        assert f"{url.scheme}://{url.hostname}" == base
        assert url.path == "/services/oauth2/authorize"
        assert parse_qs(url.query)["code_challenge"] == ["ch"]


def test_a_wrong_pkce_verifier_is_refused_by_the_sandbox(crms: SandboxServer) -> None:
    sandbox = _salesforce(crms)
    app = sandbox.org.tokens.default_app
    base = crms.url("salesforce")
    approved = httpx.get(
        f"{base}/services/oauth2/authorize",
        params={
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": "https://crm.example/cb",
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        },
    )
    code = parse_qs(urlparse(approved.headers["location"]).query)["code"][0]
    refused = httpx.post(
        f"{base}/services/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": "https://crm.example/cb",
            "code_verifier": "not-the-verifier",
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_pipedrive_flow_redirects_to_the_app(
    with_app_url: TestClient, tenant: Tenant, crms: SandboxServer, db: Session
) -> None:
    api = with_app_url
    sandbox = _pipedrive(crms)
    base = crms.url("pipedrive")
    settings: Settings = api.app.state.settings  # type: ignore[attr-defined]
    started = api.get(
        "/api/v1/oauth/pipedrive/authorize", params={"base_url": base}, headers=tenant.headers()
    ).json()
    assert "code_challenge" not in started["authorize_url"]  # Pipedrive takes no PKCE

    back = consent(api, tenant, "pipedrive", base_url=base, config={"objects": {"deals": "both"}})
    done = api.get("/api/v1/oauth/pipedrive/callback", params=back, follow_redirects=False)
    assert done.status_code == 303
    target = urlparse(done.headers["location"])
    assert f"{target.scheme}://{target.hostname}{target.path}" == APP_URL
    sent = parse_qs(target.query)
    assert sent["status"] == ["connected"]
    iid = sent["integration_id"][0]
    shown = api.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert shown["config"]["objects"] == {"deals": "both"}

    raw, clear = sealed(db, settings, iid)
    assert clear["api_domain"] == base and clear["expires_at"] > 0
    assert clear["access_token"].encode() not in raw

    renewed = post(api, tenant, f"/api/v1/integrations/{iid}/refresh")
    assert renewed["ok"] is True
    assert post(api, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True

    basic = (sandbox.oauth.client_id, sandbox.oauth.client_secret)
    revoked = httpx.post(f"{base}/oauth/revoke", data={"token": clear["refresh_token"]}, auth=basic)
    assert revoked.status_code == 200
    refused = post(api, tenant, f"/api/v1/integrations/{iid}/refresh")
    assert refused["ok"] is False and refused["integration"]["status"] == "needs_auth"
    assert f"authorize?integration_id={iid}" in refused["message"]

    # a denied consent goes back to the app too, saying so
    denied = api.get(
        "/api/v1/oauth/pipedrive/callback",
        params={"error": "access_denied"},
        follow_redirects=False,
    )
    assert denied.status_code == 303
    assert parse_qs(urlparse(denied.headers["location"]).query)["status"] == ["error"]


def test_totalexpert_client_credentials(
    web: TestClient, tenant: Tenant, crms: SandboxServer, db: Session
) -> None:
    sandbox = _totalexpert(crms)
    settings: Settings = web.app.state.settings  # type: ignore[attr-defined]
    # Total Expert has no consent page: the API client's id and secret connect it
    page = web.get("/api/v1/oauth/totalexpert/authorize", headers=tenant.headers())
    assert page.status_code == 422 and "client_id and client_secret" in page.text
    body = {
        "provider": "totalexpert",
        "name": "TE",
        "base_url": crms.url("totalexpert"),
        "credentials": {
            "client_id": sandbox.tokens.client_id,
            "client_secret": sandbox.tokens.client_secret,
        },
        "config": {"objects": {"contacts": "both"}},
    }
    made = web.post("/api/v1/integrations", json=body, headers=tenant.headers())
    assert made.status_code == 201, made.text
    iid = made.json()["id"]
    assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
    raw, first = sealed(db, settings, iid)
    assert first["access_token"] and first["expires_at"] > 0
    assert first["access_token"].encode() not in raw
    assert first["client_secret"].encode() not in raw

    sandbox.tokens.reset()  # every issued token stops working
    assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
    _, second = sealed(db, settings, iid)
    assert second["access_token"] != first["access_token"]

    sandbox.tokens.revoke_client()  # the admin replaced the API client's secret
    refused = post(web, tenant, f"/api/v1/integrations/{iid}/test")
    assert refused["ok"] is False and "PATCH /api/v1/integrations" in refused["message"]
    shown = web.get(f"/api/v1/integrations/{iid}", headers=tenant.headers()).json()
    assert shown["status"] == "needs_auth"
    fixed = {
        "credentials": {
            "client_id": sandbox.tokens.client_id,
            "client_secret": sandbox.tokens.client_secret,
        }
    }
    web.patch(f"/api/v1/integrations/{iid}", json=fixed, headers=tenant.headers())
    assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True


def test_salesforce_client_credentials_share_the_flow(
    web: TestClient, tenant: Tenant, crms: SandboxServer, db: Session
) -> None:
    sandbox = _salesforce(crms)
    settings: Settings = web.app.state.settings  # type: ignore[attr-defined]
    app = sandbox.org.tokens.default_app
    body = {
        "provider": "salesforce",
        "name": "Run-as user",
        "base_url": crms.url("salesforce"),  # a My Domain: the instance itself
        "credentials": {"client_id": app.client_id, "client_secret": app.client_secret},
        "config": {"objects": {"contacts": "both"}},
    }
    iid = web.post("/api/v1/integrations", json=body, headers=tenant.headers()).json()["id"]
    assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
    _, first = sealed(db, settings, iid)
    assert first["access_token"] and first["instance_url"] == crms.url("salesforce")
    sandbox.org.tokens.expire_sessions()
    assert post(web, tenant, f"/api/v1/integrations/{iid}/test")["ok"] is True
    _, second = sealed(db, settings, iid)
    assert second["access_token"] != first["access_token"] and "refresh_token" not in second
