"""Total Expert sandbox over real sockets: tokens, contacts, duplicates, filters, paging."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.totalexpert import Sandbox


class Clock:
    """A settable clock for token expiry and record timestamps."""

    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def token(url: str, sandbox: Sandbox) -> str:
    answer = httpx.post(
        url + "/v1/token",
        auth=(sandbox.tokens.client_id, sandbox.tokens.client_secret),
        json={"grant_type": "client_credentials"},
    )
    assert answer.status_code == 200
    return str(answer.json()["access_token"])


def start(serve: Callable[..., Any], **kwargs: Any) -> tuple[Sandbox, httpx.Client]:
    """A served sandbox (limits off unless `options` says) and an authorised client."""
    options = kwargs.pop("options", SandboxOptions(rate_profile="off"))
    sandbox = Sandbox(options, **kwargs)
    url = serve(sandbox).url("totalexpert")
    headers = {"Authorization": f"Bearer {token(url, sandbox)}"}
    return sandbox, httpx.Client(base_url=url, headers=headers)


OWNER = {"owner": {"username": "sandbox.owner"}, "source": "app"}


def person(last_name: str, **extra: Any) -> dict[str, Any]:
    """A contact body with what a create needs: source, names and an email."""
    return {
        "first_name": "F",
        "last_name": last_name,
        "email": f"{last_name}@x.io",
        **OWNER,
        **extra,
    }


def test_token_shape_expiry_and_renewal(serve: Callable[..., Any]) -> None:
    clock = Clock()
    sandbox, te = start(serve, clock=clock)
    url = str(te.base_url).rstrip("/")
    answer = httpx.post(
        url + "/v1/token",
        auth=(sandbox.tokens.client_id, sandbox.tokens.client_secret),
        json={"grant_type": "client_credentials"},
    ).json()
    assert answer["expires_in"] == 3600
    assert answer["token_type"] == "bearer"
    assert "leadInteraction" in answer["scope"].split(" ")
    assert te.get("/v1/contacts").status_code == 200

    clock.now += 3600
    expired = te.get("/v1/contacts")
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "invalid_token",
        "error_description": "The access token provided has expired",
    }
    te.headers["Authorization"] = f"Bearer {token(url, sandbox)}"
    assert te.get("/v1/contacts").status_code == 200


def test_bad_client_credentials_and_grant(serve: Callable[..., Any]) -> None:
    sandbox, te = start(serve)
    url = str(te.base_url).rstrip("/")
    wrong = httpx.post(
        url + "/v1/token", auth=("x", "y"), json={"grant_type": "client_credentials"}
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "invalid_client",
        "error_description": "The client credentials are invalid",
    }
    grant = httpx.post(
        url + "/v1/token",
        auth=(sandbox.tokens.client_id, sandbox.tokens.client_secret),
        json={"grant_type": "password"},
    )
    assert grant.status_code == 400 and grant.json()["error"] == "unsupported_grant_type"
    assert httpx.get(url + "/v1/heartbeat").json() == {"running_item": "Total Expert External API"}
    assert httpx.get(url + "/v1/teapot").status_code == 418


def test_post_of_existing_contact_answers_duplicate_and_updates(
    serve: Callable[..., Any],
) -> None:
    _, te = start(serve)
    body = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", **OWNER}
    created = te.post("/v1/contacts", json=body)
    assert created.status_code == 201
    contact_id = created.json()["id"]
    assert created.json()["created"].endswith(f"/v1/contacts/{contact_id}")

    again = te.post("/v1/contacts", json={**body, "city": "Austin"})
    assert again.status_code == 200
    assert again.json()["id"] == contact_id
    assert again.json()["duplicate"].endswith(f"/v1/contacts/{contact_id}")
    stored = te.get(f"/v1/contacts/{contact_id}").json()
    assert stored["city"] == "Austin"  # the POST acted as a PATCH
    # the match keys follow a changed email; a change elsewhere keeps them
    te.patch(f"/v1/contacts/{contact_id}", json={"email": "ann@new.example"})
    te.patch(f"/v1/contacts/{contact_id}", json={"city": "Reno"})
    moved = te.post("/v1/contacts", json={**body, "email": "ann@new.example"})
    assert moved.status_code == 200 and moved.json()["id"] == contact_id
    fresh = te.post("/v1/contacts", json=body)  # the old email matches nobody now
    assert fresh.status_code == 201
    te.delete(f"/v1/contacts/{fresh.json()['id']}")

    by_external = te.post(
        "/v1/contacts",
        json=person("X", external_ids=[{"source": "app", "external_id": "ext-1"}]),
    ).json()  # fmt: skip
    same = te.post(
        "/v1/contacts",
        json=person("Y", external_ids=[{"source": "app", "external_id": "ext-1"}]),
    )  # fmt: skip
    assert same.status_code == 200 and same.json()["id"] == by_external["id"]
    assert len(te.get("/v1/contacts").json()["items"]) == 2


def test_contact_fields_patch_custom_and_delete(serve: Callable[..., Any]) -> None:
    _, te = start(serve)
    contact_id = te.post(
        "/v1/contacts",
        json=person("Bo", custom=[{"field_name": "loan_goal", "value": "refi"}],
                    contact_groups=[{"group_name": "Past Client"}]),
    ).json()["id"]  # fmt: skip
    contact = te.get(f"/v1/contacts/{contact_id}").json()
    assert contact["custom"] == [{"field_name": "loan_goal", "value": "refi"}]
    assert contact["owner"]["username"] == "sandbox.owner"
    assert contact["contact_groups"] == [{"group_name": "Past Client"}]

    patched = te.patch(
        f"/v1/contacts/{contact_id}",
        json={"custom": [{"field_name": "loan_goal", "value": None}], "owner": {"id": 2}},
    )
    assert patched.status_code == 200
    assert patched.json()["id"] == contact_id
    assert patched.json()["existing"].endswith(f"/v1/contacts/{contact_id}")
    contact = te.get(f"/v1/contacts/{contact_id}").json()
    assert contact["custom"] == []  # a null value deletes the custom field
    users = te.get("/v1/users").json()["items"]
    assert contact["owner"] == te.get("/v1/users/2").json() == users[1]
    assert te.get("/v1/users/9").json() == {"error": "User not found"}
    assert contact["owner"]["username"] == "sandbox.agent"

    assert te.delete(f"/v1/contacts/{contact_id}").json() == []
    gone = te.get(f"/v1/contacts/{contact_id}")
    assert gone.status_code == 404 and gone.json() == {"error": "Contact not found"}


@pytest.mark.parametrize(
    ("content", "headers", "status", "error"),
    [
        (b"{not json", {"content-type": "application/json"}, 400, "Malformed JSON"),
        (b"first_name=A", {"content-type": "application/x-www-form-urlencoded"}, 415,
         "Unsupported Media Type: send application/json"),
        (b'{"first_name": "A"}', {"content-type": "application/json"}, 422,
         "Unable to find target for relationship: 'owner'"),
        (b'{"first_name": "A", "owner": {"id": 99}}', {"content-type": "application/json"}, 422,
         "Unable to find target for relationship: 'owner'"),
        (b'{"first_name": "A", "colour": "red", "owner": {"id": 1}}',
         {"content-type": "application/json"}, 400, "Invalid attribute(s): colour"),
        (b'{"email": "a@b.c", "first_name": "A", "last_name": "B", "owner": {"id": 1}}',
         {"content-type": "application/json"}, 422, "Missing required attribute(s): source"),
        (b'{"first_name": "A", "last_name": "B", "source": "app", "city": "Reno",'
         b' "owner": {"id": 1}}', {"content-type": "application/json"}, 422,
         "Missing required attribute(s): email"),
    ],
)  # fmt: skip
def test_bad_contact_input_gets_total_expert_errors(
    serve: Callable[..., Any], content: bytes, headers: dict[str, str], status: int, error: str
) -> None:
    _, te = start(serve)
    answer = te.post("/v1/contacts", content=content, headers=headers)
    assert answer.status_code == status
    assert answer.json() == {"error": error}


def test_modified_since_filter_sort_and_page_links(serve: Callable[..., Any]) -> None:
    clock = Clock()
    _, te = start(serve, clock=clock)
    ids = []
    for n in range(5):
        ids.append(te.post("/v1/contacts", json=person(f"C{n}")).json()["id"])
        clock.now += 60
    te.patch(f"/v1/contacts/{ids[0]}", json={"city": "Reno"})  # now the newest change

    since = "2026-09-21 14:15:20"  # the third creation's second: bounds are inclusive
    query = {"filter": f"internal_updated_at_start={since}", "sort": "internal_updated_at"}
    page1 = te.get("/v1/contacts", params={**query, "page[size]": 2}).json()
    assert page1["links"] == {"first": 1, "last": 2, "next": 2, "prev": None}
    page2 = te.get("/v1/contacts", params={**query, "page[size]": 2, "page[number]": 2}).json()
    assert page2["links"]["next"] is None and page2["links"]["prev"] == 1
    got = [c["id"] for c in page1["items"] + page2["items"]]
    assert got == [ids[2], ids[3], ids[4], ids[0]]

    window = f"internal_updated_at_start={since},internal_updated_at_end=2026-09-21 14:16:20"
    in_window = te.get("/v1/contacts", params={"filter": window}).json()["items"]
    assert [c["id"] for c in in_window] == [ids[2], ids[3]]
    by_name = te.get("/v1/contacts", params={"filter": "last_name=c3"}).json()["items"]
    assert [c["id"] for c in by_name] == [ids[3]]
    assert te.get("/v1/contacts", params={"filter": "colour=red"}).status_code == 400
    assert te.get("/v1/contacts", params={"page[size]": 101}).status_code == 400
    assert te.get("/v1/contacts", params={"page[size]": 0}).status_code == 400
    zero = te.get("/v1/contacts", params={"page[number]": 0, "page[size]": 2}).json()
    assert zero["links"]["next"] == 2  # page 0 is read as the first page
    short = te.get("/v1/contacts", params={"filter": "email_contains=ab"})
    assert short.status_code == 400 and "error" in short.json()


def test_archived_contacts_leave_the_default_list(serve: Callable[..., Any], receiver: Any) -> None:
    _, te = start(serve)
    te.post(
        "/v1/webhook-subscriptions",
        json={"url": receiver.url, "secret": "s", "actions": [{"action": "ARCHIVED",
                                                                "item": "CONTACT"}]},
    )  # fmt: skip
    kept = te.post("/v1/contacts", json=person("Kept")).json()["id"]
    shelved = te.post("/v1/contacts", json=person("Shelved")).json()["id"]
    te.patch(f"/v1/contacts/{shelved}", json={"archived": True})
    assert [c["id"] for c in te.get("/v1/contacts").json()["items"]] == [kept]
    archived = te.get("/v1/contacts", params={"filter": "archieved=1"}).json()["items"]
    assert [(c["id"], c["archived"]) for c in archived] == [(shelved, "True")]
    notice = orjson.loads(receiver.wait(1)[0][1])
    assert (notice["action"], notice["id"]) == ("ARCHIVED", shelved)


def test_served_over_tls_with_https_locations(serve: Callable[..., Any]) -> None:
    sandbox = Sandbox(SandboxOptions(rate_profile="off"))
    server = serve(sandbox, tls=True)
    url = server.url("totalexpert")
    assert url.startswith("https://")
    trust = ssl.create_default_context(cafile=str(server.cert_path))
    with httpx.Client(base_url=url, verify=trust) as client:
        answer = client.post(
            "/v1/token",
            auth=(sandbox.tokens.client_id, sandbox.tokens.client_secret),
            json={"grant_type": "client_credentials"},
        )
        client.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        created = client.post("/v1/contacts", json=person("Tls"))
    assert created.json()["created"].startswith(url + "/v1/contacts/")
