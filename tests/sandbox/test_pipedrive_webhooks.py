"""Pipedrive sandbox webhooks: registration, HTTP Basic credentials, v2 and v1 payloads."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive import Sandbox


def _start(serve: Callable[..., Any], **kwargs: Any) -> tuple[Sandbox, httpx.Client]:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"), **kwargs)
    url = serve(sandbox).url("pipedrive")
    return sandbox, httpx.Client(base_url=url, params={"api_token": sandbox.oauth.api_token})


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_registration_validates_and_answers_201(serve: Callable[..., Any], receiver: Any) -> None:
    _, pd = _start(serve)
    bad = pd.post("/v1/webhooks", json={"subscription_url": "ftp://x", "event_action": "*"})
    assert bad.status_code == 400
    assert bad.json()["success"] is False
    assert bad.json()["errors"]["subscription_url"] == ["invalid or non-reachable URL"]

    made = pd.post(
        "/v1/webhooks",
        json={
            "subscription_url": receiver.url,
            "event_action": "*",
            "event_object": "person",
            "http_auth_user": "crm",
            "http_auth_password": "s3cret",
            "name": "crmsync",
        },
    )
    assert made.status_code == 201
    data = made.json()["data"]
    assert (data["version"], data["type"], data["is_active"]) == ("2.0", "general", 1)
    assert [w["id"] for w in pd.get("/v1/webhooks").json()["data"]] == [data["id"]]
    assert pd.delete(f"/v1/webhooks/{data['id']}").json()["success"] is True
    assert pd.delete(f"/v1/webhooks/{data['id']}").status_code == 404


def test_v2_delivery_carries_basic_credentials_and_changes(
    serve: Callable[..., Any], receiver: Any
) -> None:
    _, pd = _start(serve)
    pd.post(
        "/v1/webhooks",
        json={
            "subscription_url": receiver.url,
            "event_action": "*",
            "event_object": "person",
            "http_auth_user": "crm",
            "http_auth_password": "s3cret",
        },
    )
    person = pd.post("/v1/persons", json={"name": "Ann", "email": "ann@example.com"}).json()
    person_id = person["data"]["id"]
    pd.put(f"/v1/persons/{person_id}", json={"name": "Ann Lee"})
    pd.post("/v1/deals", json={"title": "not a person"})  # filtered out by event_object
    pd.delete(f"/v1/persons/{person_id}")

    deliveries = receiver.wait(3)
    assert len(deliveries) == 3
    bodies = [orjson.loads(body) for _, body in deliveries]
    bodies.sort(key=lambda b: ["create", "change", "delete"].index(b["meta"]["action"]))
    for headers, _ in deliveries:
        assert headers["authorization"] == _basic("crm", "s3cret")
    created, changed, deleted = bodies
    assert created["meta"]["entity"] == "person"
    assert created["meta"]["entity_id"] == str(person_id)
    assert created["meta"]["version"] == "2.0"
    assert created["meta"]["change_source"] == "api"
    assert created["data"]["emails"][0]["value"] == "ann@example.com"
    assert created["previous"] is None
    assert changed["data"]["name"] == "Ann Lee"
    assert changed["previous"] == {"name": "Ann"}
    assert deleted["data"] is None
    assert deleted["previous"]["name"] == "Ann Lee"


def test_v1_payload_and_user_change_through_control_api(
    serve: Callable[..., Any], receiver: Any
) -> None:
    sandbox, pd = _start(serve, webhook_version="1.0")
    pd.post(
        "/v1/webhooks",
        json={"subscription_url": receiver.url, "event_action": "updated", "event_object": "deal"},
    )
    deal = pd.post("/v1/deals", json={"title": "Refi", "value": 100}).json()["data"]["id"]
    changed = pd.post(
        "/_sandbox/change",
        json={"object_type": "deals", "record_id": deal, "fields": {"status": "won"}},
    )
    assert changed.json()["status"] == "won"

    headers, body = receiver.wait(1)[0]
    assert "authorization" not in headers  # no credentials registered
    payload = orjson.loads(body)
    assert payload["event"] == "updated.deal"
    assert payload["meta"]["action"] == "updated"
    assert payload["meta"]["change_source"] == "app"
    assert payload["current"]["status"] == "won"
    assert payload["previous"]["status"] == "open"
    assert payload["previous"]["title"] == "Refi"  # v1 sends the whole previous object
    assert sandbox.counts()["deals"] == 1


def test_sandbox_targets_get_basic_auth_from_registration(
    serve: Callable[..., Any], receiver: Any
) -> None:
    _, pd = _start(serve)
    registered = pd.post(
        "/_sandbox/webhooks",
        json={"url": receiver.url, "events": ["create.person"], "basic_auth": ["u", "p"]},
    )
    assert registered.status_code == 201
    pd.post("/_sandbox/change", json={"object_type": "person", "fields": {"name": "Cy"}})
    pd.post("/_sandbox/change", json={"object_type": "organization", "fields": {"name": "Co"}})
    headers, body = receiver.wait(1)[0]
    assert headers["authorization"] == _basic("u", "p")
    assert orjson.loads(body)["data"]["name"] == "Cy"
    state = pd.get("/_sandbox/state").json()
    assert state["counts"]["persons"] == 1 and state["counts"]["organizations"] == 1


def test_merge_moves_related_records_and_reports_the_survivor(
    serve: Callable[..., Any], receiver: Any
) -> None:
    _, pd = _start(serve)
    keep = pd.post("/v1/persons", json={"name": "Ann Lee", "email": "ann@example.com"})
    keep_id = keep.json()["data"]["id"]
    gone_id = pd.post(
        "/v1/persons", json={"name": "Ann L.", "email": ["ANN@example.com", "ann@work.example"],
                             "phone": "+1 555 0100"},
    ).json()["data"]["id"]  # fmt: skip
    deal = pd.post("/v1/deals", json={"title": "Refi", "person_id": gone_id}).json()["data"]["id"]
    pd.post(
        "/v1/webhooks",
        json={"subscription_url": receiver.url, "event_action": "delete", "event_object": "person"},
    )

    merged = pd.put(f"/v1/persons/{gone_id}/merge", json={"merge_with_id": keep_id}).json()
    assert merged["data"]["id"] == keep_id and merged["data"]["merge_what_id"] == gone_id
    survivor = pd.get(f"/api/v2/persons/{keep_id}").json()["data"]
    assert survivor["name"] == "Ann Lee"
    assert [e["value"] for e in survivor["emails"]] == ["ann@example.com", "ann@work.example"]
    assert [p["value"] for p in survivor["phones"]] == ["+1 555 0100"]
    assert pd.get(f"/api/v2/deals/{deal}").json()["data"]["person_id"] == keep_id
    assert pd.get(f"/api/v2/persons/{gone_id}").json()["data"]["is_deleted"] is True

    deleted = orjson.loads(receiver.wait(1)[0][1])
    assert deleted["meta"]["action"] == "delete"
    assert deleted["previous"]["id"] == gone_id
    assert deleted["previous"]["merged_to_id"] == keep_id
    itself = pd.put(f"/v1/persons/{keep_id}/merge", json={"merge_with_id": keep_id})
    assert itself.status_code == 400 and itself.json()["success"] is False


def test_an_update_that_changes_nothing_sends_no_webhook(
    serve: Callable[..., Any], receiver: Any
) -> None:
    """Pipedrive stays quiet about a write that left the record as it was (a sync that
    pushes unchanged values must not hear about itself), and its update_time stays."""
    now = [1_700_000_000.0]
    sandbox, pd = _start(serve, clock=lambda: now[0])
    pd.post(
        "/v1/webhooks",
        json={"subscription_url": receiver.url, "event_action": "*", "event_object": "person"},
    )
    person = pd.post("/v1/persons", json={"name": "Ann", "email": "ann@example.com"}).json()
    person_id = person["data"]["id"]
    receiver.wait(1)
    before = pd.get(f"/v1/persons/{person_id}").json()["data"]["update_time"]
    now[0] += 5
    pd.put(f"/v1/persons/{person_id}", json={"name": "Ann"})
    sandbox.user_change("persons", str(person_id), {"name": "Ann"})
    assert pd.get(f"/v1/persons/{person_id}").json()["data"]["update_time"] == before
    pd.put(f"/v1/persons/{person_id}", json={"name": "Ann Lee"})  # a real change
    bodies = [orjson.loads(body) for _, body in receiver.wait(2)]
    assert [b["meta"]["action"] for b in bodies] == ["create", "change"]
    assert bodies[1]["data"]["name"] == "Ann Lee"
