"""Setup of the CRM side against empty sandbox accounts, over sockets: the plan lists
what the default mappings need, apply creates it (and nothing the second time), a full
two-way sync of the default mappings then works with no manual step, the webhooks
crmsync registered deliver an edit made in the CRM (no ``/_sandbox/`` call anywhere),
and a Salesforce Outbound Message from another org is refused and stores nothing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from crmsync.cli import app as cli
from crmsync.config import Settings
from crmsync.demo_crms import DEMO_PROVIDERS
from crmsync.integrations.setup.service import reregister_all
from crmsync.mapping.defaults import default_mapping
from crmsync.mapping.model import FieldMapping
from crmsync.mapping.schema import ObjectType
from crmsync.sandbox.base import ProviderSandbox
from crmsync.sandbox.salesforce.outbound import notification_body
from crmsync.sandbox.webhooks import WebhookTarget
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, Link, SyncJob, WebhookEvent
from crmsync.sync.targets import set_object_mapping
from tests.e2e.conftest import StackOf
from tests.e2e.waiting import wait_for

PROVIDERS = ("hubspot", "salesforce", "pipedrive", "generic")
OBJECTS = {
    "hubspot": {"contacts": "both", "deals": "both"},
    "salesforce": {"contacts": "both", "leads": "both"},
    "pipedrive": {"contacts": "both"},
    "generic": {"contacts": "both"},
}


def _credentials(name: str, sandbox: Any, url: str) -> dict[str, Any]:
    if name == "generic":
        return {"api_key": sandbox.api_key}
    credentials = DEMO_PROVIDERS[name][0](sandbox, url)
    if name == "hubspot":  # the app's developer key lets crmsync subscribe by API
        tokens = sandbox.tokens
        credentials |= {"app_id": str(tokens.app_id), "developer_api_key": tokens.developer_api_key}
    return credentials


@dataclass
class World:
    api: httpx.Client
    sandboxes: dict[str, ProviderSandbox]
    urls: dict[str, str]
    integrations: dict[str, str]
    sessions: Any
    base_url: str

    def setup(self, name: str, method: str = "POST") -> dict[str, Any]:
        answer = self.api.request(method, f"/api/v1/integrations/{self.integrations[name]}/setup")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def remote_id(self, name: str, record_id: str) -> str | None:
        with self.sessions() as session:
            return session.scalar(
                select(Link.remote_id).where(
                    Link.integration_id == uuid.UUID(self.integrations[name]),
                    Link.record_id == uuid.UUID(record_id),
                )
            )

    def failed_jobs(self, *names: str) -> list[tuple[str | None, str | None]]:
        ids = [uuid.UUID(self.integrations[n]) for n in names]
        with self.sessions() as session:
            rows = session.execute(
                select(SyncJob.status, SyncJob.last_error).where(
                    SyncJob.status.in_(("failed", "dead")), SyncJob.integration_id.in_(ids)
                )
            )
            return [(r.status, r.last_error) for r in rows]


@pytest.fixture
def world(crm_stack: StackOf) -> World:
    stack = crm_stack(PROVIDERS, "setup")
    integrations = {
        name: stack.connect(
            name,
            _credentials(name, sandbox, stack.urls[name]),
            {"objects": OBJECTS[name], "frequency": "1h"},
        )
        for name, sandbox in stack.sandboxes.items()
    }
    stack.start_worker()
    return World(
        stack.api, stack.sandboxes, stack.urls, integrations, stack.sessions, stack.base_url
    )


def _outcomes(report: dict[str, Any]) -> dict[str, int]:
    return {k: v for k, v in report["counts"].items() if v}


def test_setup_creates_every_mapped_field_once_and_the_default_mappings_sync(
    world: World,
) -> None:
    # HubSpot and Salesforce only: owner ids of one CRM mean nothing to another
    for name in ("pipedrive", "generic"):
        world.api.patch(
            f"/api/v1/integrations/{world.integrations[name]}", json={"status": "disabled"}
        )
    for name in ("hubspot", "salesforce"):
        plan = world.setup(name, "GET")
        missing = {i["name"] for i in plan["items"] if i["state"] == "missing"}
        assert missing, name  # an empty account lacks the custom fields
        first = world.setup(name)
        assert first["ok"], [i for i in first["items"] if i["outcome"] == "failed"]
        created = {i["name"] for i in first["items"] if i["outcome"] == "created"}
        assert missing <= created, name
        second = world.setup(name)
        assert second["counts"]["created"] == 0, _outcomes(second)
        assert world.setup(name, "GET")["counts"]["missing"] == 0
    hubspot_fields = {i["name"] for i in world.setup("hubspot", "GET")["items"]}
    assert {"crmsync_contact_type", "utm_source", "crmsync_engagement_score"} <= hubspot_fields
    salesforce_fields = {i["name"] for i in world.setup("salesforce", "GET")["items"]}
    assert {"Contact_Type__c", "Engagement_Score__c", "Budget_Min__c"} <= salesforce_fields

    contact = world.api.post(
        "/api/v1/contacts",
        json={
            "email": f"setup-{uuid.uuid4().hex[:8]}@example.com",
            "first_name": "Rita",
            "last_name": "Moreira",
            "contact_type": "realtor",
            "engagement_score": 42,
            "source": "portal",
            "utm_source": "newsletter",
            "utm_campaign": "spring",
            "city": "Porto",
        },
    )
    assert contact.status_code == 201, contact.text
    contact_id = contact.json()["id"]
    lead = world.api.post(
        "/api/v1/leads",
        json={
            "first_name": "Rui",
            "last_name": "Lopes",
            "email": f"lead-{uuid.uuid4().hex[:8]}@example.com",
            "budget_min": 100000,
            "budget_max": 250000,
            "preferred_areas": ["Foz", "Boavista"],
            "property_ref": "P-17",
        },
    )
    assert lead.status_code == 201, lead.text
    lead_id = lead.json()["id"]
    wait_for(lambda: world.remote_id("hubspot", contact_id))
    wait_for(lambda: world.remote_id("salesforce", contact_id))
    wait_for(lambda: world.remote_id("salesforce", lead_id))
    assert world.failed_jobs("hubspot", "salesforce") == []

    hubspot, salesforce = world.sandboxes["hubspot"], world.sandboxes["salesforce"]
    remote = world.remote_id("hubspot", contact_id)
    shown = httpx.get(
        f"{world.urls['hubspot']}/crm/v3/objects/contacts/{remote}",
        params={"properties": "crmsync_contact_type,utm_source,crmsync_engagement_score"},
        headers={"Authorization": f"Bearer {hubspot.tokens.private_token}"},  # type: ignore[attr-defined]
    ).json()["properties"]
    assert shown["crmsync_contact_type"] == "realtor" and shown["utm_source"] == "newsletter"
    sf_remote = world.remote_id("salesforce", contact_id)
    record = httpx.get(
        f"{world.urls['salesforce']}/services/data/v59.0/sobjects/Contact/{sf_remote}",
        headers={"Authorization": f"Bearer {salesforce.org.tokens.default_token}"},  # type: ignore[attr-defined]
    ).json()
    assert record["Contact_Type__c"] == "realtor" and float(record["Engagement_Score__c"]) == 42

    # and back: a custom field edited in Salesforce comes in by polling (HubSpot off, as
    # the contact now carries a Salesforce owner id)
    world.api.patch(
        f"/api/v1/integrations/{world.integrations['hubspot']}", json={"status": "disabled"}
    )
    salesforce.user_change("Contact", sf_remote, {"Contact_Type__c": "broker"})
    world.api.post(f"/api/v1/integrations/{world.integrations['salesforce']}/sync")
    wait_for(
        lambda: world.api.get(f"/api/v1/contacts/{contact_id}").json()["contact_type"] == "broker"
    )
    assert world.failed_jobs("hubspot", "salesforce") == []


def _contact_arrives(world: World, name: str, object_type: str, fields: dict[str, Any]) -> None:
    """An edit made in the CRM (as its user) reaches crmsync by the webhook setup made."""
    before = _events(world, name)
    email = tag_of(fields)
    made = world.sandboxes[name].user_change(object_type, None, fields)
    assert made
    wait_for(lambda: _events(world, name) > before)
    wait_for(lambda: email in _emails(world))


def _emails(world: World) -> set[str]:
    found = world.api.get("/api/v1/contacts", params={"limit": 200}).json()["items"]
    return {str(c.get("email")) for c in found}


def tag_of(fields: dict[str, Any]) -> str:
    email = fields.get("email") or fields.get("Email")
    return str(email[0]["value"] if isinstance(email, list) else email)


def _events(world: World, name: str) -> int:
    with world.sessions() as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.integration_id == uuid.UUID(world.integrations[name]))
            )
            or 0
        )


def test_registered_webhooks_deliver_an_edit_made_in_the_crm(world: World) -> None:
    for name in ("pipedrive", "hubspot", "generic"):
        report = world.setup(name)
        assert report["ok"], [i for i in report["items"] if i["outcome"] == "failed"]
        hooks = [i for i in report["items"] if i["kind"] == "webhook"]
        assert hooks and all(i["outcome"] == "created" for i in hooks), (name, hooks)
        again = world.setup(name)
        assert again["counts"]["created"] == 0, (name, _outcomes(again))
    tag = uuid.uuid4().hex[:8]
    _contact_arrives(
        world,
        "pipedrive",
        "persons",
        {"name": "Pia Dias", "email": [{"value": f"pd-{tag}@example.com", "primary": True}]},
    )
    _contact_arrives(
        world, "hubspot", "contacts", {"email": f"hs-{tag}@example.com", "firstname": "Hugo"}
    )
    _contact_arrives(
        world,
        "generic",
        "contacts",
        {"email": f"gn-{tag}@example.com", "firstName": "Gil", "lastName": "Neves"},
    )


def test_webhooks_crmsync_registered_go_with_the_integration(world: World) -> None:
    world.setup("pipedrive")
    pipedrive = world.sandboxes["pipedrive"]
    token = pipedrive.oauth.api_token  # type: ignore[attr-defined]
    listed = httpx.get(f"{world.urls['pipedrive']}/v1/webhooks", params={"api_token": token})
    assert listed.json()["data"]
    answer = world.api.delete(f"/api/v1/integrations/{world.integrations['pipedrive']}")
    assert answer.status_code == 204
    listed = httpx.get(f"{world.urls['pipedrive']}/v1/webhooks", params={"api_token": token})
    assert listed.json()["data"] == []


def test_a_salesforce_outbound_message_is_taken_only_from_the_integrations_org(
    world: World,
) -> None:
    report = world.setup("salesforce")
    assert report["ok"]
    org = next(i for i in report["items"] if i["name"] == "organization-id")
    assert org["outcome"] == "created"
    made = {i["name"]: i for i in report["items"]}
    assert made["outbound-message:Contact"]["outcome"] == "created"
    assert made["flow:Contact"]["outcome"] == "manual" and made["flow:Contact"]["steps"]
    salesforce = world.sandboxes["salesforce"]
    integration = world.integrations["salesforce"]
    url = f"/api/v1/webhooks/salesforce/{integration}/outbound-messages"
    record = {"Id": "003000000000001AAA", "LastName": "Other", "Email": "x@example.com"}

    def message(org_id: str) -> bytes:
        return notification_body(
            org_id, "04k000000000001", "https://x.example", "59.0", "Contact", [("04l1", record)]
        )

    wrong = salesforce.org.org_id[:-3] + "XYZ"  # type: ignore[attr-defined]
    answer = world.api.post(
        url, content=message("00D000000000999AAA"), headers={"Content-Type": "text/xml"}
    )
    assert answer.status_code == 401 and _events(world, "salesforce") == 0
    answer = world.api.post(
        url,
        content=message(wrong[:15].replace(wrong[14], "Q") + wrong[15:]),
        headers={"Content-Type": "text/xml"},
    )
    assert answer.status_code == 401 and _events(world, "salesforce") == 0

    def outbound_done() -> bool:
        answer = world.api.post(f"/api/v1/integrations/{integration}/test").json()
        return next(c["done"] for c in answer["setup"] if c["item"] == "flow")

    assert not outbound_done()  # /test says the admin's step is still to do

    # the admin's step, done through the org's Tooling API: an active rule on Contact
    # whose action is the Outbound Message setup made
    token = salesforce.org.tokens.default_token  # type: ignore[attr-defined]
    rule = httpx.post(
        f"{world.urls['salesforce']}/services/data/v59.0/tooling/sobjects/WorkflowRule",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "FullName": "Contact.send_to_crmsync",
            "Metadata": {
                "active": True,
                "triggerType": "onCreateOrTriggeringUpdate",
                "formula": "true",
                "actions": [{"name": "crmsync_contacts", "type": "OutboundMessage"}],
            },
        },
    )
    assert rule.status_code == 201, rule.text
    tag = uuid.uuid4().hex[:8]
    created = salesforce.user_change(
        "Contact", None, {"LastName": "Sousa", "Email": f"sf-{tag}@example.com"}
    )
    assert created
    wait_for(lambda: _events(world, "salesforce") == 1)
    # the sandbox logs a delivery once crmsync answered it: the SOAP acknowledgement
    log = wait_for(
        lambda: [e for e in salesforce.webhooks.log if e["url"].endswith("/outbound-messages")]
    )
    assert log[-1]["status"] == 200
    wait_for(lambda: f"sf-{tag}@example.com" in _emails(world))
    assert outbound_done()


def test_pipedrive_custom_fields_of_a_mapping_are_created_by_name(world: World) -> None:
    name = "pipedrive"
    with session_scope(world.sessions) as session:
        integration = session.get(Integration, uuid.UUID(world.integrations[name]))
        assert integration is not None
        mapping = default_mapping(name).objects[ObjectType.CONTACTS]
        extra = FieldMapping(source="engagement_score", target="Engagement score", type="number")
        kind = FieldMapping(source="contact_type", target="Contact type", type="enum")
        mapping = mapping.model_copy(update={"fields": [*mapping.fields, extra, kind]})
        set_object_mapping(session, integration, "contacts", mapping)
    plan = world.setup(name, "GET")
    missing = {i["name"]: i for i in plan["items"] if i["state"] == "missing"}
    assert missing["Engagement score"]["type"] == "double"
    assert (
        missing["Contact type"]["type"] == "enum"
        and "realtor" in missing["Contact type"]["options"]
    )
    report = world.setup(name)
    assert report["ok"] and world.setup(name)["counts"]["created"] == 0
    made = world.api.post(
        "/api/v1/contacts",
        json={
            "email": f"pd-{uuid.uuid4().hex[:8]}@example.com",
            "last_name": "Dias",
            "engagement_score": 77,
            "contact_type": "broker",
        },
    )
    assert made.status_code == 201, made.text
    remote = wait_for(lambda: world.remote_id(name, made.json()["id"]))
    assert world.failed_jobs(name) == []
    pipedrive = world.sandboxes[name]
    token = pipedrive.oauth.api_token  # type: ignore[attr-defined]
    fields = httpx.get(f"{world.urls[name]}/v1/personFields", params={"api_token": token}).json()
    keys = {f["name"]: f["key"] for f in fields["data"]}
    person = httpx.get(
        f"{world.urls[name]}/api/v2/persons/{remote}", params={"api_token": token}
    ).json()["data"]
    assert float(person["custom_fields"][keys["Engagement score"]]) == 77


def test_webhooks_follow_a_new_public_url(world: World) -> None:
    for name in ("pipedrive", "generic"):
        assert world.setup(name)["ok"]
    moved = world.base_url.replace("127.0.0.1", "localhost")
    settings = Settings(
        database_url=str(world.sessions.kw["bind"].url), mode="test", base_url=moved
    )
    assert reregister_all(world.sessions, settings) == 2
    assert reregister_all(world.sessions, settings) == 0  # the URL holds now
    pipedrive = world.sandboxes["pipedrive"]
    token = pipedrive.oauth.api_token  # type: ignore[attr-defined]
    hooks = httpx.get(f"{world.urls['pipedrive']}/v1/webhooks", params={"api_token": token})
    urls = {h["subscription_url"] for h in hooks.json()["data"]}
    assert urls == {f"{moved}/api/v1/webhooks/pipedrive/{world.integrations['pipedrive']}"}
    generic = world.sandboxes["generic"]
    listed = {t.url for t in generic.webhook_targets}
    assert listed == {f"{moved}/api/v1/webhooks/generic/{world.integrations['generic']}"}


def test_the_cli_sets_up_like_the_api(world: World) -> None:
    url = str(world.sessions.kw["bind"].url.render_as_string(hide_password=False))
    env = {"CRMSYNC_DATABASE_URL": url, "CRMSYNC_MODE": "test", "CRMSYNC_BASE_URL": world.base_url}
    integration = world.integrations["salesforce"]
    dry = CliRunner().invoke(cli, ["integrations", "setup", integration, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "created  field           Contact.Contact_Type__c: dry run" in dry.output
    assert world.setup("salesforce", "GET")["counts"]["missing"] > 0  # nothing was made
    done = CliRunner().invoke(cli, ["integrations", "setup", integration], env=env)
    assert done.exit_code == 0, done.output
    assert "created  webhook         Contact.outbound-message:Contact" in done.output
    assert "manual   webhook         Contact.flow:Contact" in done.output
    assert world.setup("salesforce", "GET")["counts"]["missing"] == 0
    again = CliRunner().invoke(cli, ["integrations", "setup", integration], env=env)
    assert "created 0" in again.output


def test_a_private_apps_webhooks_are_manual_and_test_sees_them_done(world: World) -> None:
    hubspot = world.sandboxes["hubspot"]
    integration = world.integrations["hubspot"]
    tokens = hubspot.tokens  # type: ignore[attr-defined]
    private = {"access_token": tokens.private_token, "client_secret": tokens.client_secret}
    patched = world.api.patch(f"/api/v1/integrations/{integration}", json={"credentials": private})
    assert patched.status_code == 200, patched.text
    item = next(
        i for i in world.setup("hubspot", "GET")["items"] if i["name"] == "private-app-webhooks"
    )
    hook = f"{world.base_url}/api/v1/webhooks/hubspot/{integration}"
    assert item["state"] == "manual" and f"Target URL: {hook}" in item["steps"]

    def done() -> bool:
        answer = world.api.post(f"/api/v1/integrations/{integration}/test").json()
        return bool(answer["setup"][0]["done"])

    assert not done()
    # the admin's clicks in HubSpot: the private app's target URL and subscriptions
    hubspot.register_webhook(WebhookTarget(hook, events=("contact.creation",)))
    hubspot.user_change("contacts", None, {"email": f"pa-{uuid.uuid4().hex[:6]}@example.com"})
    wait_for(done)
    items = {i["name"]: i for i in world.setup("hubspot", "GET")["items"]}
    assert items["private-app-webhooks"]["state"] == "present"
