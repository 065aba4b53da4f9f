"""A quiet Pipedrive integration stays quiet: after a contact went out and its own
webhook came back, polls and webhooks over a quiet hour send nothing to Pipedrive and
queue no push (no echo loop: our push -> its webhook -> we apply -> a push back)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from crmsync.demo import SAMPLE
from crmsync.demo_crms import DEMO_PROVIDERS, without_owner
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, SyncJob, WebhookEvent
from crmsync.sync.targets import TargetResolver, set_object_mapping
from crmsync.sync.worker import Worker
from tests.e2e.conftest import Stack, StackOf
from tests.e2e.waiting import wait_for

_READS = ("/search", "/find", "/oauth", "/token")


def _writes(stack: Stack) -> list[tuple[str, str]]:
    """The writes Pipedrive received (its webhook subscriptions apart)."""
    return [
        (e["method"], e["path"])
        for e in stack.sandboxes["pipedrive"].request_log.entries()
        if (e["method"] in ("PATCH", "PUT", "DELETE") or e["method"] == "POST")
        and not any(r in e["path"] for r in _READS)
        and "/webhooks" not in e["path"]
    ]


def _count(stack: Stack, what: Any) -> int:
    with stack.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(what)) or 0)


def test_a_quiet_pipedrive_integration_sends_and_queues_nothing(crm_stack: StackOf) -> None:
    stack = crm_stack(["pipedrive"], "quiet")
    sandbox = stack.sandboxes["pipedrive"]
    credentials, objects = DEMO_PROVIDERS["pipedrive"]
    integration_id = stack.connect(
        "pipedrive",
        credentials(sandbox, stack.urls["pipedrive"]),
        {"objects": objects, "frequency": "1m"},  # as the demo connects it
    )
    with session_scope(stack.sessions) as session:
        integration = session.get(Integration, uuid.UUID(integration_id))
        assert integration is not None
        set_object_mapping(session, integration, "contacts", without_owner("pipedrive", "contacts"))
    setup = stack.api.post(f"/api/v1/integrations/{integration_id}/setup")
    assert setup.status_code == 200, setup.text
    worker = Worker(stack.sessions, TargetResolver(stack.settings))  # driven by hand

    for contact in SAMPLE["contacts"]:  # the demo's contacts, every field of them
        made = stack.api.post("/api/v1/contacts", json=contact)
        assert made.status_code == 201, made.text
    while worker.run_once():
        pass
    assert sandbox.counts()["persons"] == len(SAMPLE["contacts"])
    # Pipedrive told us of our own adds
    wait_for(lambda: _count(stack, WebhookEvent) >= len(SAMPLE["contacts"]))
    clock = datetime.now(UTC)

    def round_() -> None:
        nonlocal clock
        clock += timedelta(minutes=1)  # every scheduled poll is due
        worker.run_inbound_once(now=clock)
        while worker.run_once():
            pass

    for _ in range(3):  # settle: the echo of our own push comes back once
        round_()
    writes, jobs, events = len(_writes(stack)), _count(stack, SyncJob), _count(stack, WebhookEvent)
    for _ in range(10):  # a quiet period of ten scheduled polls
        round_()
    assert _writes(stack)[writes:] == []
    assert _count(stack, SyncJob) == jobs
    assert _count(stack, WebhookEvent) == events
