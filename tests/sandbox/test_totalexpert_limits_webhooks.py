"""Total Expert sandbox: the 1,000 requests/minute limit and shared-secret webhooks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from crmsync.sandbox.base import SandboxOptions
from tests.sandbox.test_totalexpert_contacts import person, start


def test_the_1001st_request_in_a_minute_is_429(serve: Callable[..., Any]) -> None:
    sandbox, te = start(serve, options=SandboxOptions(rate_profile="standard"))
    assert sandbox.profile.windows[0].limit == 1000
    answers = [te.get("/v1/heartbeat").status_code for _ in range(1000)]
    assert set(answers) == {200}
    refused = te.get("/v1/contacts")
    assert refused.status_code == 429
    assert refused.json() == {"error": "Too Many Requests"}
    assert "retry-after" not in refused.headers  # the API documents no rate headers
    # the token endpoint is not counted, so a client can still authenticate
    auth = (sandbox.tokens.client_id, sandbox.tokens.client_secret)
    assert te.post("/v1/token", auth=auth, json={"grant_type": "client_credentials"}).is_success


def test_retry_after_can_be_switched_on(serve: Callable[..., Any]) -> None:
    _, te = start(serve, retry_after=True)
    te.post("/_sandbox/faults", json={"kind": "429", "count": 1})
    forced = te.get("/v1/contacts")
    assert forced.status_code == 429
    assert int(forced.headers["retry-after"]) >= 1
    assert forced.json() == {"error": "Too Many Requests"}
    assert te.get("/v1/contacts").status_code == 200


def test_webhook_subscription_and_notifications(serve: Callable[..., Any], receiver: Any) -> None:
    _, te = start(serve)
    actions = te.get("/v1/webhook-actions").json()["items"]
    assert {"action": "CREATED", "item": "CONTACT"} in actions
    secret = "9f" * 20
    made = te.post(
        "/v1/webhook-subscriptions",
        json={"url": receiver.url, "secret": secret,
              "actions": [{"action": "CREATED", "item": "CONTACT"},
                          {"action": "UPDATED", "item": "CONTACT"}]},
    )  # fmt: skip
    assert made.status_code == 201
    sub_id = made.json()["id"]
    assert "secret" not in te.get(f"/v1/webhook-subscriptions/{sub_id}").json()

    contact_id = te.post("/v1/contacts", json=person("Hook")).json()["id"]
    te.patch(f"/v1/contacts/{contact_id}", json={"city": "Reno"})
    te.patch(f"/v1/contacts/{contact_id}", json={"city": "Reno"})  # no real change
    te.delete(f"/v1/contacts/{contact_id}")  # DELETED not subscribed

    bodies = [orjson.loads(body) for _, body in receiver.wait(3)]
    bodies.sort(key=lambda b: b["action"] != "CREATED")
    assert {(b["item"], b["action"], b["id"], b["secret"]) for b in bodies} == {
        ("CONTACT", "CREATED", contact_id, secret),
        ("CONTACT", "UPDATED", contact_id, secret),
    }
    created, first_update, second_update = bodies
    assert first_update["hashValue"] != created["hashValue"]
    assert second_update["hashValue"] == first_update["hashValue"]

    patched = te.patch(
        f"/v1/webhook-subscriptions/{sub_id}",
        json={"remove_actions": [{"action": "UPDATED", "item": "CONTACT"}]},
    )
    assert patched.json() == []
    assert te.get(f"/v1/webhook-subscriptions/{sub_id}").json()["actions"] == [
        {"action": "CREATED", "item": "CONTACT"}
    ]
    assert te.delete(f"/v1/webhook-subscriptions/{sub_id}").json() == []


def test_webhook_urls_must_be_https_outside_loopback(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    body = {"secret": "s", "actions": [{"action": "CREATED", "item": "CONTACT"}]}
    plain = te.post("/v1/webhook-subscriptions", json={**body, "url": "http://crm.example/h"})
    assert plain.status_code == 422 and plain.json() == {"error": "url must be an HTTPS URL"}
    odd = te.post(
        "/v1/webhook-subscriptions",
        json={
            **body,
            "url": "https://x.example",
            "actions": [{"action": "EATEN", "item": "CONTACT"}],
        },
    )
    assert odd.status_code == 422
    _, strict = start(serve, https_only=True)
    loopback = strict.post(
        "/v1/webhook-subscriptions", json={**body, "url": "http://127.0.0.1:9/h"}
    )
    assert loopback.status_code == 422


def test_user_change_fires_sandbox_targets(serve: Callable[..., Any], receiver: Any) -> None:
    _, te = start(serve)
    te.post("/_sandbox/webhooks", json={"url": receiver.url, "secret": "abc",
                                        "events": ["CONTACT.CREATED"]})  # fmt: skip
    made = te.post("/_sandbox/change", json={"object_type": "contacts",
                                             "fields": person("Uma")})  # fmt: skip
    assert made.status_code == 200 and made.json()["owner"]["id"] == 1
    body = orjson.loads(receiver.wait(1)[0][1])
    assert (body["item"], body["action"], body["secret"]) == ("CONTACT", "CREATED", "abc")
    assert body["id"] == made.json()["id"]
    assert te.get("/_sandbox/state").json()["counts"]["contacts"] == 1


def test_injected_server_errors_use_the_error_shape(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    te.post("/_sandbox/faults", json={"kind": "503", "count": 1})
    failed = te.get("/v1/contacts")
    assert failed.status_code == 503
    assert failed.json() == {"error": "Service Unavailable"}
    assert te.get("/v1/contacts").status_code == 200
