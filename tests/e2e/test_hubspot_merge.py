"""Merging two contacts that each have a HubSpot record: over sockets, HubSpot ends with
one (merged) contact, and HubSpot's own merge events do not undo anything here."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from crmsync.store.models import Link, WebhookEvent
from tests.e2e.test_hubspot_loop import (  # noqa: F401  (loop is a fixture)
    Loop,
    _drain,
    _remote_contacts,
    loop,
)
from tests.e2e.waiting import wait_for


def test_merge_reaches_hubspot_as_one_contact(loop: Loop) -> None:  # noqa: F811
    survivor = loop.api.post(
        "/api/v1/contacts",
        json={"email": "rob@acme.example", "first_name": "Robert", "last_name": "Allen"},
    ).json()
    duplicate = loop.api.post(
        "/api/v1/contacts",
        json={"email": "bob.allen@mail.example", "first_name": "Bob", "city": "Austin"},
    ).json()
    _drain(loop.worker)
    assert len(_remote_contacts(loop)) == 2  # each is linked to its own HubSpot contact
    with loop.sessions() as db:
        remote_ids = dict(db.execute(select(Link.record_id, Link.remote_id)).all())
    assert len(remote_ids) == 2

    merged = loop.api.post(
        "/api/v1/contacts/merge",
        json={
            "survivor_id": survivor["id"],
            "merged_ids": [duplicate["id"]],
            "strategy": "prefer_existing",
        },
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["crm_jobs"] == {"upsert": 1, "merge": 1}
    _drain(loop.worker)

    remote = _remote_contacts(loop)
    assert len(remote) == 1
    [kept] = remote
    primary = remote_ids[uuid.UUID(survivor["id"])]
    assert kept["id"] == primary
    # crmsync's merged values: the survivor's own email, the duplicate's city filled in
    assert kept["properties"]["email"] == "rob@acme.example"
    assert kept["properties"]["city"] == "Austin"
    with loop.sessions() as db:
        links = db.execute(select(Link.record_id, Link.remote_id)).all()
    assert [(str(r), x) for r, x in links] == [(survivor["id"], primary)]

    # HubSpot reports its merge (a webhook, then a poll): nothing is deleted or created.
    with loop.sessions() as db:
        wait_for(lambda: db.scalar(select(func.count()).select_from(WebhookEvent)))
    loop.worker.run_inbound_once()
    _drain(loop.worker)
    listed = loop.api.get("/api/v1/contacts").json()["items"]
    assert [c["id"] for c in listed] == [survivor["id"]]
    assert loop.api.get(f"/api/v1/contacts/{duplicate['id']}").json()["id"] == survivor["id"]
    assert len(_remote_contacts(loop)) == 1
