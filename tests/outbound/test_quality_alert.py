"""A data-quality drop: the share of a workspace's imported rows rejected over a window."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts import rules, service
from crmsync.imports import jobs
from crmsync.imports.options import ImportOptions
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.store.engine import session_scope
from crmsync.store.models import Alert, OutboundEvent
from crmsync.store.models.imports import ImportJob
from tests.conftest import Tenant

LIMITS = rules.Thresholds(quality_min_rows=20, quality_rejection_rate=0.25)


def _import(
    sessions: sessionmaker[Session], tmp: Path, ws: uuid.UUID, good: int, bad: int
) -> uuid.UUID:
    """A real import of ``good`` valid rows and ``bad`` rows validation rejects."""
    tag = uuid.uuid4().hex[:6]
    lines = ["first,last,email"]
    lines += [f"A{i},B{i},p{i}-{tag}@example.com" for i in range(good)]
    lines += [f"C{i},D{i},broken-{i}@" for i in range(bad)]
    with session_scope(sessions) as session:
        job = jobs.create_job(
            session,
            ws,
            ImportSettings(data_dir=tmp / "data"),
            filename="people.csv",
            data=io.BytesIO("\n".join(lines).encode()),
            options=ImportOptions.model_validate({}),
            columns={"first": "first_name", "last": "last_name", "email": "email"},
        )
        jobs.start_job(job)
        job_id = job.id
    assert run_import(sessions, job_id, limits=ImportSettings(data_dir=tmp / "data")) in (
        "completed",
        "completed_with_errors",
    )
    return job_id


def _finished(sessions: sessionmaker[Session], job_id: uuid.UUID, at: datetime) -> None:
    with session_scope(sessions) as session:
        session.execute(update(ImportJob).where(ImportJob.id == job_id).values(finished_at=at))


def _check(sessions: sessionmaker[Session], ws: uuid.UUID, now: datetime) -> list[Alert]:
    with session_scope(sessions) as session:
        service.reconcile(session, rules.detect(session, now, LIMITS), now)
    with sessions() as session:
        return list(
            session.scalars(
                select(Alert).where(Alert.workspace_id == ws, Alert.kind == rules.QUALITY_DROP)
            )
        )


def test_a_rejection_rate_over_the_threshold_alerts_once_and_resolves(
    sessions: sessionmaker[Session], tenant: Tenant, tmp_path: Path
) -> None:
    usual = _import(sessions, tmp_path, tenant.id, good=38, bad=2)  # 5%: the baseline
    _finished(sessions, usual, datetime.now(UTC) - timedelta(days=3))
    assert _check(sessions, tenant.id, datetime.now(UTC)) == []
    small = _import(sessions, tmp_path, tenant.id, good=5, bad=5)  # 50% of 10 rows: too few
    assert _check(sessions, tenant.id, datetime.now(UTC)) == []
    big = _import(sessions, tmp_path, tenant.id, good=10, bad=10)  # 15 of 30 in the window
    now = datetime.now(UTC)
    found = _check(sessions, tenant.id, now)
    assert [(a.status, a.details["rows"], a.details["rejected"]) for a in found] == [
        ("open", 30, 15)
    ]
    assert found[0].details["baseline_rate"] == 0.05
    assert "50% of 30 imported rows were rejected" in found[0].message
    assert "(the 7 days before: 5%)" in found[0].message
    again = _check(sessions, tenant.id, now + timedelta(minutes=1))  # still so: one alert
    assert [(a.status, a.count) for a in again] == [("open", 2)]
    # the bad imports leave the window: the alert resolves
    _finished(sessions, small, now - timedelta(days=2))
    _finished(sessions, big, now - timedelta(days=2))
    resolved = _check(sessions, tenant.id, now + timedelta(minutes=2))
    assert [a.status for a in resolved] == ["resolved"]
    with sessions() as session:
        kinds = session.scalars(
            select(OutboundEvent.type).where(
                OutboundEvent.workspace_id == tenant.id, OutboundEvent.type.like("alert.%")
            )
        ).all()
    assert sorted(kinds).count("alert.raised") >= 1 and "alert.resolved" in kinds


@pytest.mark.parametrize(("good", "bad", "alerts"), [(80, 19, 0), (75, 25, 1)])
def test_the_threshold_is_a_share_of_rows(
    sessions: sessionmaker[Session], tenant: Tenant, tmp_path: Path, good: int, bad: int,
    alerts: int,
) -> None:  # fmt: skip
    _import(sessions, tmp_path, tenant.id, good=good, bad=bad)
    assert len(_check(sessions, tenant.id, datetime.now(UTC))) == alerts
