"""Workers delete succeeded jobs past the retention setting, and nothing else."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.config import Settings
from crmsync.store.engine import session_scope
from crmsync.store.models import Integration, SyncJob
from crmsync.sync.worker import Worker
from crmsync.workspaces import create_workspace
from tests.e2e.waiting import PATIENCE

DAY = datetime(2000, 1, 2, tzinfo=UTC)


def _jobs(session: Session, settled: list[tuple[str, datetime]]) -> list[int]:
    workspace = create_workspace(session, f"purge-{uuid.uuid4().hex[:6]}")
    integration = Integration(workspace_id=workspace.id, provider="hubspot", name="hs", config={})
    session.add(integration)
    session.flush()
    ids = []
    for status, at in settled:
        job = SyncJob(
            workspace_id=workspace.id,
            integration_id=integration.id,
            object_type="contacts",
            record_id=uuid.uuid4(),
            operation="upsert",
            status=status,
            attempts=1,
            updated_at=at,
        )
        session.add(job)
        session.flush()
        ids.append(job.id)
    return ids


def _left(sessions: sessionmaker[Session], ids: list[int]) -> list[int]:
    with sessions() as session:
        return sorted(session.scalars(select(SyncJob.id).where(SyncJob.id.in_(ids))))


def _unused(*_: object) -> None:
    raise AssertionError("purging resolves no target")


def test_only_succeeded_jobs_older_than_the_retention_go(
    queue_sessions: sessionmaker[Session],
) -> None:
    with session_scope(queue_sessions) as session:
        old, recent, dead, pending = _jobs(
            session,
            [
                ("succeeded", DAY - timedelta(hours=13)),
                ("succeeded", DAY - timedelta(hours=11)),
                ("dead", DAY - timedelta(days=30)),
                ("pending", DAY - timedelta(days=30)),
            ],
        )
    worker = Worker(queue_sessions, _unused, keep_succeeded=timedelta(hours=12))
    with queue_sessions() as session:
        assert worker.purge_once(session, now=DAY) == 1
    assert _left(queue_sessions, [old, recent, dead, pending]) == [recent, dead, pending]
    keeping = Worker(queue_sessions, _unused)  # no retention given: nothing is purged
    with queue_sessions() as session:
        assert keeping.purge_once(session, now=DAY + timedelta(days=365)) == 0


def test_a_running_worker_purges_on_its_schedule(queue_sessions: sessionmaker[Session]) -> None:
    with session_scope(queue_sessions) as session:
        ids = _jobs(session, [("succeeded", datetime.now(UTC) - timedelta(days=2))])
    hours = Settings().succeeded_job_retention_hours
    worker = Worker(
        queue_sessions,
        _unused,
        lease=timedelta(seconds=3),  # the upkeep thread beats every second
        keep_succeeded=timedelta(hours=hours),
    )
    worker.start()
    try:
        deadline = time.monotonic() + PATIENCE
        while _left(queue_sessions, ids) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.stop()
    assert _left(queue_sessions, ids) == []
