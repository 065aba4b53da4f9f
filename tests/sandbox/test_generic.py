"""The generic REST CRM sandbox over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.generic import GenericSandbox

from .conftest import Receiver


class StepClock:
    """Advances one second per reading, so every write has its own timestamp."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
def crm(serve: Any) -> Iterator[tuple[GenericSandbox, httpx.Client]]:
    sandbox = GenericSandbox(SandboxOptions(rate_profile="off"), clock=StepClock())
    server = serve(sandbox)
    with httpx.Client(
        base_url=server.url("generic"), headers={"X-API-Key": sandbox.api_key}
    ) as client:
        yield sandbox, client


def test_api_key_is_required(crm: tuple[GenericSandbox, httpx.Client]) -> None:
    _, client = crm
    answer = client.get("/api/v1/leads", headers={"X-API-Key": "wrong"})
    assert answer.status_code == 401
    assert answer.json() == {
        "error": {"code": "unauthorized", "message": "missing or invalid API key"}
    }


def test_create_get_update_with_external_reference(
    crm: tuple[GenericSandbox, httpx.Client],
) -> None:
    _, client = crm
    made = client.post(
        "/api/v1/leads",
        json={"email": "a@example.com", "lastName": "Ada", "externalReference": "cs-1"},
    )
    assert made.status_code == 201
    lead = made.json()
    assert lead["status"] == "new" and lead["externalReference"] == "cs-1"
    assert client.get(f"/api/v1/leads/{lead['id']}").json()["email"] == "a@example.com"
    patched = client.patch(f"/api/v1/leads/{lead['id']}", json={"status": "qualified"}).json()
    assert patched["status"] == "qualified" and patched["version"] > lead["version"]
    assert client.get("/api/v1/leads/by-reference/cs-1").json()["id"] == lead["id"]
    clash = client.post("/api/v1/leads", json={"lastName": "B", "externalReference": "cs-1"})
    assert clash.status_code == 409 and clash.json()["error"]["code"] == "conflict"


def test_upsert_by_reference_creates_then_updates(crm: tuple[GenericSandbox, httpx.Client]) -> None:
    sandbox, client = crm
    first = client.put("/api/v1/contacts/by-reference/ext-9", json={"firstName": "Bo"})
    second = client.put("/api/v1/contacts/by-reference/ext-9", json={"title": "CTO"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["firstName"] == "Bo" and second.json()["title"] == "CTO"
    assert sandbox.counts() == {"leads": 0, "contacts": 1}


def test_invalid_fields_are_listed(crm: tuple[GenericSandbox, httpx.Client]) -> None:
    _, client = crm
    answer = client.post("/api/v1/leads", json={"email": "nope", "status": "hot", "shoe": 1})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "validation_error"
    assert {d["field"] for d in error["details"]} == {"email", "status", "shoe"}


def test_modified_since_polling_sees_updates_and_deletions(
    crm: tuple[GenericSandbox, httpx.Client],
) -> None:
    _, client = crm
    ids = [
        client.post("/api/v1/contacts", json={"lastName": f"L{i}"}).json()["id"] for i in range(3)
    ]
    mark = client.get(f"/api/v1/contacts/{ids[2]}").json()["updatedAt"]
    client.patch(f"/api/v1/contacts/{ids[0]}", json={"firstName": "Changed"})
    assert client.delete(f"/api/v1/contacts/{ids[1]}").status_code == 204
    polled = client.get("/api/v1/contacts", params={"modifiedSince": mark}).json()["data"]
    assert [(r["id"], r["deleted"]) for r in polled] == [
        (ids[2], False),
        (ids[0], False),
        (ids[1], True),
    ]
    assert client.get(f"/api/v1/contacts/{ids[1]}").status_code == 404
    plain = client.get("/api/v1/contacts").json()["data"]
    assert {r["id"] for r in plain} == {ids[0], ids[2]}


def test_cursor_paging_visits_every_record_once(crm: tuple[GenericSandbox, httpx.Client]) -> None:
    _, client = crm
    made = [client.post("/api/v1/leads", json={"lastName": f"P{i}"}).json()["id"] for i in range(7)]
    seen, cursor = [], None
    while True:
        page = client.get(
            "/api/v1/leads", params={"limit": 3, **({"cursor": cursor} if cursor else {})}
        ).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == made


def test_registered_webhook_carries_secret_and_event(
    crm: tuple[GenericSandbox, httpx.Client], receiver: Receiver
) -> None:
    _, client = crm
    hook = client.post("/api/v1/webhooks", json={"url": receiver.url, "events": ["lead.created"]})
    assert hook.status_code == 201
    secret = hook.json()["secret"]
    client.post("/api/v1/contacts", json={"lastName": "not subscribed"})
    lead = client.post(
        "/api/v1/leads", json={"lastName": "Hooked", "externalReference": "r-7"}
    ).json()
    headers, body = receiver.wait(1)[0]
    assert headers["x-crm-secret"] == secret
    assert headers["x-crm-event"] == "lead.created"
    payload = orjson.loads(body)
    assert payload["event"] == "lead.created" and payload["data"]["id"] == lead["id"]
    assert payload["data"]["externalReference"] == "r-7"
    assert len(receiver.received) == 1


def test_unknown_webhook_event_is_refused(crm: tuple[GenericSandbox, httpx.Client]) -> None:
    _, client = crm
    answer = client.post(
        "/api/v1/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["deal.won"]}
    )
    assert answer.status_code == 400


def test_user_change_fires_update_webhook(
    crm: tuple[GenericSandbox, httpx.Client], receiver: Receiver
) -> None:
    sandbox, client = crm
    lead = client.post("/api/v1/leads", json={"lastName": "Before"}).json()
    client.post("/_sandbox/webhooks", json={"url": receiver.url, "secret": "s3cr3t"})
    sandbox.user_change("leads", lead["id"], {"lastName": "After"})  # from the test thread
    headers, body = receiver.wait(1)[0]
    assert headers["x-crm-secret"] == "s3cr3t" and headers["x-crm-event"] == "lead.updated"
    assert orjson.loads(body)["data"]["lastName"] == "After"


def test_rate_limit_headers_and_429(serve: Any) -> None:
    sandbox = GenericSandbox(SandboxOptions(rate_profile="strict"))
    server = serve(sandbox)
    with httpx.Client(
        base_url=server.url("generic"), headers={"X-API-Key": sandbox.api_key}
    ) as client:
        first = client.get("/api/v1/leads")
        assert first.headers["x-ratelimit-limit"] == "60"
        assert first.headers["x-ratelimit-remaining"] == "59"
        statuses = [client.get("/api/v1/leads").status_code for _ in range(60)]
        assert statuses[-1] == 429 and statuses.count(429) == 1
