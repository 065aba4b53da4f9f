"""Outbound webhooks survive a worker SIGKILL mid-send and a receiver failing half the
time: every event arrives at least once, and each record's events first arrive in order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.outbound.emit import emit
from crmsync.outbound.webhooks import endpoints
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.outbound.webhooks.schedule import Schedule
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.models import WebhookDelivery
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import wait_for
from tests.outbound.receiver import Receiver, running

EVENTS, KEYS = 120, 20
# Runs in the child: a deliverer with a 2-second lease and no waits between attempts.
CHILD = """
import sys, time
from datetime import timedelta
from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.outbound.webhooks.schedule import Schedule
from crmsync.store.engine import make_engine, make_sessionmaker
settings = Settings(mode="test", sandbox_mode=True, database_url=sys.argv[1])
deliverer = Deliverer(
    make_sessionmaker(make_engine(sys.argv[1])), vault_for(settings), sandbox_mode=True,
    schedule=Schedule(waits=(timedelta(0),) * 39, jitter=0.0), lease=timedelta(seconds=2),
    batch=20, poll_interval=0.05,
)
deliverer.start()
time.sleep(600)
"""


@dataclass
class GatedReceiver(Receiver):
    """Holds every delivery after the first `limit` accepted ones until `opened` is set,
    then turns the held ones away: the sender is killed while they wait, so the kill
    lands mid-send on any machine, however slow."""

    limit: int = 0
    held: threading.Event = field(default_factory=threading.Event)
    opened: threading.Event = field(default_factory=threading.Event)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if not self.opened.is_set() and len(self.accepted) >= self.limit:
            self.held.set()
            self.opened.wait()
            return 503  # nobody hears it: its sender is dead
        return super().handle(headers, body)


def _pending(sessions: object) -> int:
    with sessions() as session:  # type: ignore[operator]
        return int(
            session.scalar(select(func.count()).where(WebhookDelivery.status == "pending")) or 0
        )


def test_every_event_arrives_after_a_sigkill(fresh_database_url: str) -> None:
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    engine = make_engine(fresh_database_url)
    sessions = make_sessionmaker(engine)
    receiver = GatedReceiver(fail_share=0.5, limit=EVENTS // 3)
    with running(receiver):
        with session_scope(sessions) as session:
            workspace = create_workspace(session, "hooks")
            _made, receiver.secret = endpoints.create(
                session, vault_for(settings), workspace.id, receiver.url, [], None,
                sandbox_mode=True,
            )  # fmt: skip
        with session_scope(sessions) as session:
            for n in range(EVENTS):
                emit(session, workspace.id, "sync.failed", f"k{n % KEYS}", {"n": n})
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, fresh_database_url], env=env, start_new_session=True
        )
        try:
            wait_for(receiver.held.is_set, process=child)
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait(10)
            receiver.opened.set()
        arrived_before = len(receiver.accepted)
        assert arrived_before < EVENTS, "the kill came too late to test anything"
        # no wait for the dead worker's leases: the survivor's clock below starts past them
        survivor = Deliverer(
            sessions,
            vault_for(settings),
            sandbox_mode=True,
            schedule=Schedule(waits=(timedelta(0),) * 39, jitter=0.0),
        )
        try:
            now = datetime.now(UTC)
            for _ in range(400):
                now += timedelta(seconds=6)
                survivor.run_once(now)
                if not _pending(sessions):
                    break
        finally:
            survivor.stop()
    engine.dispose()
    assert receiver.refused_signatures == 0
    first: dict[int, int] = {}
    for position, (_msg_id, body) in enumerate(receiver.accepted):
        first.setdefault(body["data"]["n"], position)
    assert sorted(first) == list(range(EVENTS))  # none lost
    for key in range(KEYS):
        mine = sorted((n for n in first if n % KEYS == key), key=lambda n: first[n])
        assert mine == sorted(mine), f"k{key} out of order"
