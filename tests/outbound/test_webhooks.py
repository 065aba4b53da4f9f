"""Outbound webhooks to the host app: signed, in per-record order, retried, never lost."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks import delivery
from crmsync.outbound.webhooks.fanout import fan_out
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.outbound.webhooks.schedule import Schedule
from crmsync.store.engine import session_scope
from crmsync.store.models import OutboundEvent, WebhookDelivery, WebhookEndpoint
from tests.conftest import Tenant, create_test_app
from tests.outbound.receiver import Receiver, running

# Retries without waiting, so a test walks the whole schedule in a moment: 8 attempts
# (the default count) to see one die, 30 where a receiver failing half the time must not
# kill any (2^-30).
QUICK = Schedule(waits=(timedelta(0),) * 7, jitter=0.0)
PATIENT = Schedule(waits=(timedelta(0),) * 29, jitter=0.0)


@pytest.fixture(scope="module")
def sandbox_app(database_url: str, engine: Engine) -> FastAPI:
    """The API in sandbox mode: endpoints on loopback are allowed, as in the demo."""
    return create_test_app(database_url, engine, sandbox_mode=True)


@pytest.fixture(scope="module")
def api(sandbox_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sandbox_app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running(Receiver()) as r:
        yield r


def _deliverer(sessions: sessionmaker[Session], schedule: Schedule = QUICK) -> Deliverer:
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    return Deliverer(sessions, vault_for(settings), sandbox_mode=True, schedule=schedule)


def _endpoint(api: TestClient, tenant: Tenant, receiver: Receiver, **body: Any) -> dict[str, Any]:
    made = api.post(
        "/api/v1/webhook-endpoints", json={"url": receiver.url, **body}, headers=tenant.headers()
    )
    assert made.status_code == 201, made.text
    receiver.secret = made.json()["secret"]
    return dict(made.json())


def _emit(sessions: sessionmaker[Session], tenant: Tenant, events: list[tuple[str, str]]) -> None:
    with session_scope(sessions) as session:
        for n, (type_, key) in enumerate(events):
            emit(session, tenant.id, type_, key, {"key": key, "n": n})


def _drain(deliverer: Deliverer, rounds: int = 200) -> None:
    now = datetime.now(UTC)
    for _ in range(rounds):
        now += timedelta(seconds=10)  # past any lease and SETTLE
        if not deliverer.run_once(now):
            with deliverer.sessions() as session:
                pending = session.scalar(
                    select(func.count()).where(WebhookDelivery.status == "pending")
                )
            if not pending:
                return


def test_every_event_reaches_a_flaky_receiver_once_verified_in_record_order(
    api: TestClient, tenant: Tenant, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    receiver.fail_share = 0.5
    _endpoint(api, tenant, receiver)
    keys = [f"rec-{i}" for i in range(12)]
    events = [("deal.stage_changed", keys[i % len(keys)]) for i in range(120)]
    _emit(sessions, tenant, events)
    deliverer = _deliverer(sessions, PATIENT)
    try:
        _drain(deliverer)
    finally:
        deliverer.stop()
    assert receiver.failed_on_purpose > 0 and receiver.refused_signatures == 0
    got = [body["data"]["n"] for _, body in receiver.accepted]
    assert sorted(got) == list(range(len(events)))  # every event, exactly once
    for key in keys:
        mine = [body["data"]["n"] for _, body in receiver.accepted if body["data"]["key"] == key]
        assert mine == sorted(mine), key  # per-record order
    assert len({msg_id for msg_id, _ in receiver.accepted}) == len(events)


def test_only_the_types_an_endpoint_takes_and_only_its_workspace(
    api: TestClient,
    tenant: Tenant,
    make_tenant: Any,
    receiver: Receiver,
    sessions: sessionmaker[Session],
) -> None:
    _endpoint(api, tenant, receiver, event_types=["sync.failed"])
    other = make_tenant()
    _emit(sessions, tenant, [("deal.stage_changed", "a"), ("sync.failed", "a")])
    _emit(sessions, other, [("sync.failed", "b")])
    deliverer = _deliverer(sessions)
    try:
        _drain(deliverer)
    finally:
        deliverer.stop()
    assert [(b["type"], b["data"]["key"]) for _, b in receiver.accepted] == [("sync.failed", "a")]


def test_a_record_change_is_delivered_with_its_payload(
    api: TestClient, tenant: Tenant, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    _endpoint(api, tenant, receiver, event_types=["deal.stage_changed"])
    h = tenant.headers()
    deal = api.post("/api/v1/deals", json={"name": "House", "stage": "new"}, headers=h).json()
    api.patch(f"/api/v1/deals/{deal['id']}", json={"stage": "closedwon"}, headers=h)
    deliverer = _deliverer(sessions)
    try:
        _drain(deliverer)
    finally:
        deliverer.stop()
    moves = [(b["type"], b["data"]["deal_id"], b["data"]["from"], b["data"]["to"])
             for _, b in receiver.accepted]  # fmt: skip
    stage = "deal.stage_changed"
    assert moves == [(stage, deal["id"], None, "new"), (stage, deal["id"], "new", "closedwon")]


def test_a_dead_delivery_disables_its_endpoint_and_says_so(
    api: TestClient, tenant: Tenant, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    receiver.fail_share = 1.0
    made = _endpoint(api, tenant, receiver)
    _emit(sessions, tenant, [("sync.failed", "r"), ("sync.failed", "r")])  # one record
    deliverer = _deliverer(sessions)
    try:
        _drain(deliverer)
    finally:
        deliverer.stop()
    shown = api.get(f"/api/v1/webhook-endpoints/{made['id']}", headers=tenant.headers()).json()
    assert shown["enabled"] is False and "failed 8 times" in shown["disabled_reason"]
    log = api.get(
        f"/api/v1/webhook-endpoints/{made['id']}/deliveries", headers=tenant.headers()
    ).json()["items"]
    assert [d["status"] for d in log] == ["pending", "dead"]  # the second waits its turn
    assert log[1]["attempts"] == 8 and log[1]["last_status_code"] == 503
    with sessions() as session:
        said = session.scalar(
            select(OutboundEvent).where(
                OutboundEvent.workspace_id == tenant.id,
                OutboundEvent.type == "webhook_endpoint.disabled",
            )
        )
    assert said is not None and said.payload["endpoint_id"] == made["id"]
    # Enabled again, the endpoint gets what waited; the dead one can be replayed.
    receiver.fail_share = 0.0
    api.patch(
        f"/api/v1/webhook-endpoints/{made['id']}", json={"enabled": True}, headers=tenant.headers()
    )
    replayed = api.post(
        f"/api/v1/webhook-endpoints/{made['id']}/deliveries/{log[1]['id']}/replay",
        headers=tenant.headers(),
    )
    assert replayed.status_code == 202, replayed.text
    deliverer = _deliverer(sessions)
    try:
        _drain(deliverer)
    finally:
        deliverer.stop()
    types = sorted(b["type"] for _, b in receiver.accepted)
    # the waiting event, the replayed one, and the news of the endpoint's own disabling
    assert types == ["sync.failed", "sync.failed", "webhook_endpoint.disabled"]
    assert sorted(b["data"].get("n", -1) for _, b in receiver.accepted) == [-1, 0, 1]


def test_a_crashed_sender_loses_nothing(
    api: TestClient, tenant: Tenant, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    """Deliveries claimed by a worker that died are sent when their lease runs out."""
    _endpoint(api, tenant, receiver)
    _emit(sessions, tenant, [("sync.failed", f"k{i}") for i in range(5)])
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    now = datetime.now(UTC) + timedelta(seconds=10)
    with session_scope(sessions) as session:
        fan_out(session, now)
    with session_scope(sessions) as session:
        claimed = delivery.claim(session, vault_for(settings), 100, now)  # then the worker dies
    assert len(claimed) == 5
    deliverer = _deliverer(sessions)
    try:
        assert deliverer.run_once(now + timedelta(seconds=1)) == 0  # still leased
        _drain(deliverer)
    finally:
        deliverer.stop()
    assert sorted(b["data"]["key"] for _, b in receiver.accepted) == [f"k{i}" for i in range(5)]


def test_the_secret_is_shown_once_and_rotates(
    api: TestClient, tenant: Tenant, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    made = _endpoint(api, tenant, receiver)
    first = made["secret"]
    assert first.startswith("whsec_")
    shown = api.get(f"/api/v1/webhook-endpoints/{made['id']}", headers=tenant.headers()).json()
    assert "secret" not in shown
    with sessions() as session:
        stored = session.get(WebhookEndpoint, uuid.UUID(made["id"]))
        assert stored is not None and first not in stored.secret  # encrypted at rest
    rotated = api.post(
        f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret", headers=tenant.headers()
    ).json()["secret"]
    assert rotated != first
    _emit(sessions, tenant, [("sync.failed", "after-rotation")])
    receiver.secret = first  # the receiver still holds the old secret: refuses the signature
    deliverer = _deliverer(sessions)
    try:
        deliverer.run_once(datetime.now(UTC) + timedelta(seconds=10))
        assert receiver.refused_signatures == 1 and receiver.accepted == []
        receiver.secret = rotated
        _drain(deliverer)
    finally:
        deliverer.stop()
    assert [b["data"]["key"] for _, b in receiver.accepted] == ["after-rotation"]


def test_urls_roles_and_workspaces_are_guarded(
    api: TestClient, client: TestClient, tenant: Tenant, make_tenant: Any, receiver: Receiver
) -> None:
    body = {"url": "http://127.0.0.1:9/hooks"}
    # Outside sandbox mode loopback is refused, with the rule.
    refused = client.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers())
    assert refused.status_code == 422 and "loopback" in refused.json()["error"]["message"]
    for url in ("ftp://example.com/x", "https://user:pw@example.com/x", "not a url"):
        answer = api.post("/api/v1/webhook-endpoints", json={"url": url}, headers=tenant.headers())
        assert answer.status_code == 422, url
    agent = api.post("/api/v1/webhook-endpoints", json=body, headers=tenant.headers(Role.AGENT))
    assert agent.status_code == 403
    made = _endpoint(api, tenant, receiver)
    other = make_tenant()
    for method, path in (
        ("GET", f"/api/v1/webhook-endpoints/{made['id']}"),
        ("GET", f"/api/v1/webhook-endpoints/{made['id']}/deliveries"),
        ("POST", f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret"),
        ("DELETE", f"/api/v1/webhook-endpoints/{made['id']}"),
    ):
        assert api.request(method, path, headers=other.headers()).status_code == 404, path
    assert api.get("/api/v1/webhook-endpoints", headers=other.headers()).json()["items"] == []


@pytest.mark.parametrize(("batch", "threads"), [(1, 1), (7, 3), (500, 8)])
def test_batch_size_and_threads_do_not_change_what_arrives(
    api: TestClient,
    make_tenant: Any,
    receiver: Receiver,
    sessions: sessionmaker[Session],
    batch: int,
    threads: int,
) -> None:
    tenant = make_tenant()
    receiver.fail_share = 0.3
    _endpoint(api, tenant, receiver)
    events = [("deal.stage_changed", f"k-{i % 5}") for i in range(40)]
    _emit(sessions, tenant, events)
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    deliverer = Deliverer(
        sessions, vault_for(settings), sandbox_mode=True, schedule=PATIENT,
        batch=batch, threads=threads,
    )  # fmt: skip
    try:
        _drain(deliverer, rounds=2_000)
    finally:
        deliverer.stop()
    assert receiver.refused_signatures == 0
    got = [body["data"]["n"] for _, body in receiver.accepted]
    assert sorted(got) == list(range(len(events)))  # every event, exactly once
    for key in {k for _, k in events}:
        mine = [body["data"]["n"] for _, body in receiver.accepted if body["data"]["key"] == key]
        assert mine == sorted(mine), key


def test_the_guard_is_asked_again_before_sending(
    api: TestClient, make_tenant: Any, receiver: Receiver, sessions: sessionmaker[Session]
) -> None:
    """An endpoint the guard took (sandbox mode) is refused at send time by a deliverer
    outside sandbox mode: nothing is sent, the attempt says why."""
    tenant = make_tenant()
    _endpoint(api, tenant, receiver)
    _emit(sessions, tenant, [("deal.won", "d-1"), ("deal.won", "d-2")])
    settings = Settings(mode="test")  # type: ignore[call-arg]
    deliverer = Deliverer(sessions, vault_for(settings), sandbox_mode=False)
    try:
        now = datetime.now(UTC) + timedelta(seconds=10)
        assert deliverer.run_once(now) == 2
    finally:
        deliverer.stop()
    assert receiver.accepted == []
    with sessions() as session:
        rows = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.workspace_id == tenant.id)
        ).all()
    assert [(r.attempts, r.status, r.last_status_code) for r in rows] == [(1, "pending", None)] * 2
    assert all(str(r.last_error).startswith("refused: ") for r in rows)
