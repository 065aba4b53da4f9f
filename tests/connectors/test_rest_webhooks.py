"""Generic REST CRM webhooks over a socket: the secret header, the event header, parsing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import orjson
import pytest

from crmsync.connectors.base import ChangeKind
from crmsync.connectors.registry import ConnectorContext, build
from crmsync.connectors.rest.connector import RestConnector
from crmsync.sandbox.generic.sandbox import GenericSandbox
from crmsync.sandbox.server import SandboxServer
from tests.sandbox import conftest as sandbox_fixtures
from tests.sandbox.conftest import Receiver

receiver = sandbox_fixtures.receiver  # the webhook receiver fixture

SECRET = "whsec_rest_webhooks"


@pytest.fixture
def served() -> Iterator[tuple[GenericSandbox, str]]:
    sandbox = GenericSandbox()
    with SandboxServer([sandbox]) as server:
        yield sandbox, server.url("generic")


def connector(url: str, sandbox: GenericSandbox, secret: str | None) -> RestConnector:
    credentials = {"api_key": sandbox.api_key}
    if secret:
        credentials["webhook_secret"] = secret
    context = ConnectorContext(
        uuid.uuid4(), uuid.uuid4(), url, credentials, rate_profile="unlimited"
    )
    built = build("generic", context)
    assert isinstance(built, RestConnector)
    return built


def deliveries(
    served: tuple[GenericSandbox, str], receiver: Receiver, count: int
) -> list[tuple[dict[str, str], bytes]]:
    sandbox, url = served
    with connector(url, sandbox, None).http.client as control:
        control.post("/api/v1/webhooks", json={"url": receiver.url, "secret": SECRET})
        made = control.post("/api/v1/contacts", json={"email": "ada@example.com"}).json()
        control.patch(f"/api/v1/contacts/{made['id']}", json={"lastName": "Lovelace"})
        control.delete(f"/api/v1/contacts/{made['id']}")
    return receiver.wait(count)[:count]


def test_genuine_deliveries_verify_and_parse_into_changes(
    served: tuple[GenericSandbox, str], receiver: Receiver
) -> None:
    sandbox, url = served
    got = deliveries(served, receiver, 3)
    hooks = connector(url, sandbox, SECRET)
    assert all(hooks.verify_webhook(headers, body) for headers, body in got)
    # each delivery is its own request, so they may arrive in any order
    order = [ChangeKind.CREATED, ChangeKind.UPDATED, ChangeKind.DELETED]
    changes = sorted(
        (c for _, body in got for c in hooks.parse_webhook(body)), key=lambda c: order.index(c.kind)
    )
    assert [c.kind for c in changes] == order
    assert {c.object_type for c in changes} == {"contacts"}
    assert len({c.remote_id for c in changes}) == 1
    assert len({c.event_id for c in changes}) == 3
    assert changes[1].properties["lastname"] == "Lovelace"
    assert changes[0].occurred_at is not None


def test_a_wrong_or_missing_secret_and_a_mismatched_event_are_refused(
    served: tuple[GenericSandbox, str], receiver: Receiver
) -> None:
    sandbox, url = served
    headers, body = deliveries(served, receiver, 1)[0]
    assert not connector(url, sandbox, "whsec_other").verify_webhook(headers, body)
    assert not connector(url, sandbox, None).verify_webhook(headers, body)
    hooks = connector(url, sandbox, SECRET)
    assert not hooks.verify_webhook(
        {k: v for k, v in headers.items() if k.lower() != "x-crm-secret"}, body
    )
    # whichever of the three deliveries came first, it is relabelled as another event
    event = orjson.loads(body)["event"]
    other = "contact.deleted" if event != "contact.deleted" else "contact.created"
    relabelled = body.replace(event.encode(), other.encode())
    assert relabelled != body
    assert not hooks.verify_webhook(headers, relabelled)
    assert not hooks.verify_webhook(headers, b"not json")


def test_unknown_events_and_records_without_ids_are_skipped() -> None:
    sandbox = GenericSandbox()
    hooks = connector("http://127.0.0.1:9", sandbox, SECRET)
    events = [
        {"id": "1", "event": "invoice.created", "data": {"id": "in_1"}},
        {"id": "2", "event": "lead.archived", "data": {"id": "ld_1"}},
        {"id": "3", "event": "lead.created", "data": {"firstName": "no id"}},
        {"id": "4", "event": "lead.created", "data": {"id": "ld_2", "firstName": "Ada"}},
    ]
    changes = hooks.parse_webhook(orjson.dumps(events))
    assert [(c.object_type, c.remote_id, c.event_id) for c in changes] == [("leads", "ld_2", "4")]
    assert changes[0].properties == {"firstname": "Ada"}
