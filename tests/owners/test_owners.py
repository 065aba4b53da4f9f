"""CRM owners over real sockets: each CRM's users listed through its own API, cached with a
time to live, and owner fields mapped through them both ways."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.demo_crms import standard_fields
from crmsync.mapping.engine import map_inbound
from crmsync.mapping.model import FieldMapping
from crmsync.mapping.transforms import Transform
from crmsync.owners.table import OwnerTable
from crmsync.store.models import CrmOwner, Integration, OwnerListing, User
from crmsync.sync.targets import set_object_mapping, targets_of
from tests.conftest import Tenant
from tests.owners.conftest import PROVIDERS, Crms, connect

OWNER_FIELD = {
    "hubspot": "hubspot_owner_id",
    "salesforce": "OwnerId",
    "pipedrive": "owner_id",
    "totalexpert": "owner.id",
}
OWNER = "owner@sandbox.example"  # a user of every sandbox


def _owners(client: TestClient, tenant: Tenant, integration_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/integrations/{integration_id}/owners", headers=tenant.headers())
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_crm_lists_its_users_matched_by_email(
    crm_client: TestClient, tenant: Tenant, crms: Crms, provider: str
) -> None:
    integration_id = connect(crm_client, tenant, crms, provider)
    body = _owners(crm_client, tenant, integration_id)
    by_email = {o["email"]: o for o in body["items"]}
    assert OWNER in by_email, body
    owner = by_email[OWNER]
    assert owner["active"] and owner["remote_id"]
    assert owner["user"] is None  # no user of the workspace has the e-mail yet
    assert body["listed_at"] is not None and not body["stale"] and body["last_error"] is None
    if provider == "hubspot":
        assert owner["remote_id"] == "101"
        assert by_email["former@sandbox.example"]["active"] is False  # archived owner
    if provider == "totalexpert":
        assert owner["remote_id"] == "1" and owner["aliases"] == ["sandbox.owner", "owner-1"]
    if provider == "pipedrive":
        assert owner["remote_id"] == "1"


def test_the_cache_lives_for_its_ttl_then_is_listed_again(
    crm_client: TestClient, tenant: Tenant, crms: Crms, sessions: sessionmaker[Session]
) -> None:
    integration_id = connect(crm_client, tenant, crms, "pipedrive")
    first = _owners(crm_client, tenant, integration_id)["listed_at"]
    assert _owners(crm_client, tenant, integration_id)["listed_at"] == first  # from the cache
    with sessions() as session:
        listing = session.get(OwnerListing, uuid.UUID(integration_id))
        assert listing is not None and listing.listed_at is not None
        listing.listed_at -= timedelta(hours=2)  # older than the TTL
        aged = listing.listed_at
        session.commit()
    again = _owners(crm_client, tenant, integration_id)
    assert datetime.fromisoformat(again["listed_at"]) > aged
    forced = crm_client.post(
        f"/api/v1/integrations/{integration_id}/owners/refresh", headers=tenant.headers()
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["listed_at"] >= again["listed_at"]
    assert {o["email"] for o in forced.json()["items"]} == {o["email"] for o in again["items"]}


def test_a_user_gone_from_the_crm_leaves_the_cache(
    crm_client: TestClient, tenant: Tenant, crms: Crms, sessions: sessionmaker[Session]
) -> None:
    integration_id = connect(crm_client, tenant, crms, "hubspot")
    _owners(crm_client, tenant, integration_id)
    with sessions() as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        session.add(
            CrmOwner(
                workspace_id=integration.workspace_id,
                integration_id=integration.id,
                remote_id="999",
                email="left@sandbox.example",
                email_key="left@sandbox.example",
            )
        )
        session.commit()
    assert "left@sandbox.example" in {
        o["email"] for o in _owners(crm_client, tenant, integration_id)["items"]
    }
    forced = crm_client.post(
        f"/api/v1/integrations/{integration_id}/owners/refresh", headers=tenant.headers()
    ).json()
    assert "left@sandbox.example" not in {o["email"] for o in forced["items"]}


def test_a_failed_listing_is_reported_and_keeps_nothing_made_up(
    crm_client: TestClient, tenant: Tenant, crms: Crms
) -> None:
    # a base URL where the CRM answers 404 to everything
    integration_id = connect(
        crm_client, tenant, crms, "pipedrive", base_url=crms.url("pipedrive") + "/nowhere"
    )
    body = _owners(crm_client, tenant, integration_id)
    assert body["items"] == [] and body["stale"] and body["last_error"]
    forced = crm_client.post(
        f"/api/v1/integrations/{integration_id}/owners/refresh", headers=tenant.headers()
    )
    assert forced.status_code == 502, forced.text


def test_another_workspaces_integration_is_404(
    crm_client: TestClient, tenant: Tenant, make_tenant: Any, crms: Crms
) -> None:
    integration_id = connect(crm_client, tenant, crms, "hubspot")
    other = make_tenant()
    for method, path in (("GET", "owners"), ("POST", "owners/refresh")):
        answer = crm_client.request(
            method, f"/api/v1/integrations/{integration_id}/{path}", headers=other.headers()
        )
        assert answer.status_code == 404, answer.text


def _with_owner_mapping(
    sessions: sessionmaker[Session], integration_id: str, provider: str
) -> None:
    """The sandbox-ready contact mapping plus the owner field through the owner table."""
    mapping = standard_fields(provider, "contacts")
    owner = FieldMapping(
        source="owner", target=OWNER_FIELD[provider], transforms=[Transform(kind="owner")]
    )
    with sessions() as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        fields = [*mapping.fields, owner]
        set_object_mapping(
            session, integration, "contacts", mapping.model_copy(update={"fields": fields})
        )
        session.commit()


def _remote_owner(crms: Crms, provider: str, remote_id: str) -> str:
    """The contact's owner as the CRM's own API shows it."""
    sandbox: Any = crms.sandboxes[provider]
    url = crms.url(provider)
    if provider == "hubspot":
        answer = httpx.get(
            f"{url}/crm/v3/objects/contacts/{remote_id}",
            params={"properties": "hubspot_owner_id"},
            headers={"Authorization": f"Bearer {sandbox.tokens.private_token}"},
        )
        return str(answer.json()["properties"]["hubspot_owner_id"])
    if provider == "salesforce":
        answer = httpx.get(
            f"{url}/services/data/v59.0/sobjects/Contact/{remote_id}",
            headers={"Authorization": f"Bearer {sandbox.org.tokens.default_token}"},
        )
        return str(answer.json()["OwnerId"])
    if provider == "pipedrive":
        answer = httpx.get(
            f"{url}/api/v2/persons/{remote_id}", params={"api_token": sandbox.oauth.api_token}
        )
        return str(answer.json()["data"]["owner_id"])
    token = httpx.post(
        f"{url}/v1/token",
        json={"grant_type": "client_credentials"},
        auth=(sandbox.tokens.client_id, sandbox.tokens.client_secret),
    ).json()["access_token"]
    answer = httpx.get(
        f"{url}/v1/contacts/{remote_id}", headers={"Authorization": f"Bearer {token}"}
    )
    return str(answer.json()["owner"]["id"])


@pytest.mark.parametrize("provider", PROVIDERS)
def test_owner_fields_map_through_the_table_both_ways(
    crm_app: FastAPI,
    crm_client: TestClient,
    tenant: Tenant,
    crms: Crms,
    sessions: sessionmaker[Session],
    provider: str,
) -> None:
    integration_id = connect(crm_client, tenant, crms, provider)
    _with_owner_mapping(sessions, integration_id, provider)
    owner_id = next(
        o["remote_id"]
        for o in _owners(crm_client, tenant, integration_id)["items"]
        if o["email"] == OWNER
    )
    h = tenant.headers()
    contact = crm_client.post(
        "/api/v1/contacts",
        json={
            "email": f"owned-{uuid.uuid4().hex[:6]}@example.com",
            "first_name": "Owned",
            "last_name": "Contact",
            "source": "app",
            "owner": " Owner@Sandbox.example ",  # matched by e-mail, case and spaces aside
        },
        headers=h,
    ).json()
    pushed = crm_client.post(f"/api/v1/contacts/{contact['id']}/sync", headers=h)
    assert pushed.status_code == 200, pushed.text
    (result,) = pushed.json()["results"]
    assert result["status"] == "synced", result
    # outbound: the CRM holds its own user id, read through its own API
    assert _remote_owner(crms, provider, result["remote_id"]) == owner_id

    # inbound: the CRM's user id becomes the crmsync owner's e-mail again
    with sessions() as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        target = targets_of(crm_app)(session, integration)
        remote = {OWNER_FIELD[provider]: owner_id}
        assert map_inbound(target.mapping, "contacts", remote).values["owner"] == OWNER
        unknown = map_inbound(target.mapping, "contacts", {OWNER_FIELD[provider]: "424242"})
        assert unknown.values["owner"] == "424242"  # an unknown id is kept, not lost

    # an owner the CRM does not have is the record's own error, naming the e-mail
    stranger = crm_client.post(
        "/api/v1/contacts",
        json={
            "email": f"s-{uuid.uuid4().hex[:6]}@example.com",
            "first_name": "S",
            "last_name": "T",
            "source": "app",
            "owner": "nobody@example.com",
        },
        headers=h,
    ).json()
    failed = crm_client.post(f"/api/v1/contacts/{stranger['id']}/sync", headers=h).json()
    (outcome,) = failed["results"]
    assert outcome["status"] == "failed" and "nobody@example.com" in outcome["error"]
    assert outcome["remote_id"] is None


def test_owner_table_lookups() -> None:
    def owner(remote_id: str, email: str | None, active: bool = True, **kw: Any) -> CrmOwner:
        key = email.lower() if email else None
        return CrmOwner(
            remote_id=remote_id, email=email, email_key=key, active=active, aliases=[], **kw
        )

    table = OwnerTable(
        [owner("7", "Ann@X.io"), owner("8", "old@x.io", active=False), owner("9", None)]
    )
    cases_out = [("ann@x.io", "7"), (" ANN@x.io", "7"), ("7", "7"), ("9", "9")]
    for value, expected in cases_out:
        assert table.to_remote(value) == expected, value
    for refused in ("old@x.io", "8", "who@x.io"):
        with pytest.raises(ValueError, match="no active user"):
            table.to_remote(refused)
    cases_in = [("7", "Ann@X.io"), ("8", "old@x.io"), ("9", "9"), ("404", "404")]
    for value, expected in cases_in:
        assert table.to_canonical(value) == expected, value


def test_a_push_lists_the_users_itself_when_the_cache_is_cold(
    crm_client: TestClient, tenant: Tenant, crms: Crms, sessions: sessionmaker[Session]
) -> None:
    """A push whose record has an owner lists the CRM's users itself and stores them."""
    integration_id = connect(crm_client, tenant, crms, "hubspot")
    _with_owner_mapping(sessions, integration_id, "hubspot")
    with sessions() as session:
        assert session.get(OwnerListing, uuid.UUID(integration_id)) is None
    h = tenant.headers()
    contact = crm_client.post(
        "/api/v1/contacts",
        json={"email": f"c-{uuid.uuid4().hex[:6]}@example.com", "owner": OWNER},
        headers=h,
    ).json()
    (result,) = crm_client.post(f"/api/v1/contacts/{contact['id']}/sync", headers=h).json()[
        "results"
    ]
    assert result["status"] == "synced", result
    assert _remote_owner(crms, "hubspot", result["remote_id"]) == "101"
    with sessions() as session:
        listing = session.get(OwnerListing, uuid.UUID(integration_id))
        assert listing is not None and listing.listed_at is not None


def test_a_crm_without_a_users_api_is_422(crm_client: TestClient, tenant: Tenant) -> None:
    made = crm_client.post(
        "/api/v1/integrations",
        json={
            "provider": "generic",
            "name": "own CRM",
            "base_url": "http://127.0.0.1:9",
            "credentials": {"api_key": "k"},
            "config": {"objects": {"contacts": "outbound"}},
        },
        headers=tenant.headers(),
    )
    assert made.status_code == 201, made.text
    answer = crm_client.get(
        f"/api/v1/integrations/{made.json()['id']}/owners", headers=tenant.headers()
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["details"][0]["field"] == "integration_id"


def test_a_crm_user_is_matched_to_the_workspace_user_with_its_email(
    crm_client: TestClient,
    tenant: Tenant,
    make_tenant: Any,
    crms: Crms,
    sessions: sessionmaker[Session],
) -> None:
    integration_id = connect(crm_client, tenant, crms, "totalexpert")
    other = make_tenant()
    with sessions() as session:
        mine = User(workspace_id=tenant.id, email=OWNER, name="Ola", role="agent")
        session.add(mine)
        # the same e-mail in another workspace is another person
        session.add(User(workspace_id=other.id, email="agent@sandbox.example", role="agent"))
        session.commit()
        mine_id = str(mine.id)
    by_email = {o["email"]: o for o in _owners(crm_client, tenant, integration_id)["items"]}
    assert by_email[OWNER]["user"] == {"id": mine_id, "email": OWNER, "name": "Ola"}
    assert by_email["agent@sandbox.example"]["user"] is None
