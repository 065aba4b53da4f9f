"""``import.completed``: once per import, with its counts, in the transaction that finishes
it; an import with failed rows also raises its alert. An import that fails sends
``import.failed`` with its reason and counts, in the transaction that marks it failed; a
dry run sends neither. They reach the host app's receiver, which verifies them with
standardwebhooks."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts.runner import AlertMonitor
from crmsync.config import Settings
from crmsync.imports import jobs
from crmsync.imports.launcher import ThreadLauncher
from crmsync.imports.options import ImportOptions
from crmsync.imports.runner import IMPORT_COMPLETED, run_import
from crmsync.imports.settings import ImportSettings
from crmsync.integrations.keys import vault_for
from crmsync.outbound.emit import IMPORT_FAILED
from crmsync.outbound.webhooks.runner import Deliverer
from crmsync.store.engine import session_scope
from crmsync.store.models import Alert, OutboundEvent
from crmsync.store.models.imports import ImportJob
from tests.conftest import Tenant, create_test_app
from tests.outbound.receiver import Receiver, running

LEADS = (
    "First Name,Last Name,Email Address\n"
    "Ana,Lima,ana@example.com\n"
    "Bo,Chen,bo@\n"
    "Cy,Do,cy@example.com\n"
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("import-events")


@pytest.fixture(scope="module")
def sandbox_app(database_url: str, engine: Engine, data_dir: Path) -> FastAPI:
    app = create_test_app(database_url, engine, sandbox_mode=True)
    app.state.import_settings = ImportSettings(data_dir=data_dir)
    return app


@pytest.fixture(scope="module")
def api(sandbox_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sandbox_app, raise_server_exceptions=False) as c:
        yield c


def _deliver(sessions: sessionmaker[Session]) -> None:
    settings = Settings(mode="test", sandbox_mode=True)  # type: ignore[call-arg]
    deliverer = Deliverer(sessions, vault_for(settings), sandbox_mode=True)
    now = datetime.now(UTC)
    try:
        for _ in range(20):
            now += timedelta(seconds=10)
            if not deliverer.run_once(now):
                break
    finally:
        deliverer.stop()


def _events(sessions: sessionmaker[Session], tenant: Tenant) -> list[dict[str, Any]]:
    with sessions() as session:
        return list(
            session.scalars(
                select(OutboundEvent.payload).where(
                    OutboundEvent.workspace_id == tenant.id,
                    OutboundEvent.type == IMPORT_COMPLETED,
                )
            )
        )


def test_an_import_tells_the_host_app_it_completed_and_alerts_on_failed_rows(
    api: TestClient, sandbox_app: FastAPI, tenant: Tenant, sessions: sessionmaker[Session]
) -> None:
    with running(Receiver()) as receiver:
        made = api.post(
            "/api/v1/webhook-endpoints",
            json={"url": receiver.url, "event_types": [IMPORT_COMPLETED, "alert.raised"]},
            headers=tenant.headers(),
        )
        assert made.status_code == 201, made.text
        receiver.secret = made.json()["secret"]
        files = {"file": ("open-house.csv", LEADS.encode())}
        job = api.post(
            "/api/v1/imports", files=files, data={"batch_size": "2"}, headers=tenant.headers()
        ).json()
        assert api.post(f"/api/v1/imports/{job['id']}/start", headers=tenant.headers()).is_success
        launcher: ThreadLauncher = sandbox_app.state.import_launcher
        launcher.join(uuid.UUID(job["id"]))
        monitor = AlertMonitor(sessions, Settings(mode="test"))  # type: ignore[call-arg]
        monitor.check_once()
        _deliver(sessions)
    assert receiver.refused_signatures == 0
    bodies = [body for _id, body in receiver.accepted]
    completed = [b["data"] for b in bodies if b["type"] == IMPORT_COMPLETED]
    assert len(completed) == 1
    assert {k: completed[0][k] for k in ("import_id", "filename", "object_type", "status")} == {
        "import_id": job["id"],
        "filename": "open-house.csv",
        "object_type": "contacts",
        "status": "completed",
    }
    counts = ("total_rows", "processed", "created", "updated", "failed", "duplicates")
    assert [completed[0][k] for k in counts] == [3, 3, 2, 0, 1, 0]
    alerts = [b["data"] for b in bodies if b["type"] == "alert.raised"]
    assert [(a["kind"], a["subject"]) for a in alerts] == [("import.failed_rows", job["id"])]


def _job(
    sessions: sessionmaker[Session], tenant: Tenant, limits: ImportSettings, **options: Any
) -> uuid.UUID:
    with session_scope(sessions) as session:
        job = jobs.create_job(
            session,
            tenant.id,
            limits,
            filename="leads.csv",
            data=io.BytesIO(LEADS.encode()),
            options=ImportOptions.model_validate(options),
            columns=None,
        )
        jobs.start_job(job)
    return job.id


def test_a_rerun_of_a_finished_import_emits_no_second_event(
    tenant: Tenant, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    limits = ImportSettings(data_dir=tmp_path)
    job_id = _job(sessions, tenant, limits, batch_size=1)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    assert run_import(sessions, job_id, limits=limits) == "completed"  # nothing left to run
    assert len(_events(sessions, tenant)) == 1


def test_a_dry_run_sends_no_event(
    tenant: Tenant, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    limits = ImportSettings(data_dir=tmp_path)
    job_id = _job(sessions, tenant, limits, dry_run=True)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    assert _events(sessions, tenant) == []


def test_a_failed_import_tells_the_host_app_why_with_its_counts(
    api: TestClient, tenant: Tenant, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    # the limit is lowered after the upload: the run finds the file too long
    limits = ImportSettings(data_dir=tmp_path, max_rows=2)  # the file has three rows
    with running(Receiver()) as receiver:
        made = api.post(
            "/api/v1/webhook-endpoints",
            json={"url": receiver.url, "event_types": [IMPORT_FAILED, IMPORT_COMPLETED]},
            headers=tenant.headers(),
        )
        assert made.status_code == 201, made.text
        receiver.secret = made.json()["secret"]
        job_id = _job(sessions, tenant, ImportSettings(data_dir=tmp_path), batch_size=1)
        assert run_import(sessions, job_id, limits=limits) == "failed"
        with sessions() as session:
            job = session.get_one(ImportJob, job_id)
            # the event is written in the transaction that marks the job failed
            events = session.scalars(
                select(OutboundEvent).where(OutboundEvent.key == f"import:{job_id}")
            ).all()
        assert [e.type for e in events] == [IMPORT_FAILED]
        _deliver(sessions)
    assert receiver.refused_signatures == 0
    bodies = [body for _id, body in receiver.accepted]
    assert [b["type"] for b in bodies] == [IMPORT_FAILED]
    data = bodies[0]["data"]
    assert job.error == "the file has more than 2 rows"
    assert {k: data[k] for k in ("import_id", "filename", "status", "error")} == {
        "import_id": str(job_id),
        "filename": "leads.csv",
        "status": "failed",
        "error": job.error,
    }
    counts = ("total_rows", "processed", "created", "updated", "failed", "duplicates")
    assert [data[k] for k in counts] == [getattr(job, k) for k in counts]


def test_an_import_that_fails_as_a_whole_raises_a_critical_alert_with_its_reason(
    tenant: Tenant, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    limits = ImportSettings(data_dir=tmp_path, max_rows=2)  # the file has three rows
    done = _job(sessions, tenant, ImportSettings(data_dir=tmp_path))
    assert run_import(sessions, done, limits=ImportSettings(data_dir=tmp_path)) == "completed"
    failed = _job(sessions, tenant, ImportSettings(data_dir=tmp_path), batch_size=1)
    assert run_import(sessions, failed, limits=limits) == "failed"
    monitor = AlertMonitor(sessions, Settings(mode="test"))  # type: ignore[call-arg]
    monitor.check_once()
    monitor.check_once()  # a second look keeps the one alert
    with sessions() as session:
        alerts = session.scalars(
            select(Alert).where(Alert.workspace_id == tenant.id, Alert.kind == "import.failed")
        ).all()
    assert [(a.subject, a.severity, a.count) for a in alerts] == [(str(failed), "critical", 2)]
    assert "the file has more than 2 rows" in alerts[0].message
    assert alerts[0].details["import_id"] == str(failed)


def test_a_failed_dry_run_sends_no_event(
    tenant: Tenant, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    limits = ImportSettings(data_dir=tmp_path, max_rows=2)
    job_id = _job(sessions, tenant, ImportSettings(data_dir=tmp_path), dry_run=True)
    assert run_import(sessions, job_id, limits=limits) == "failed"
    with sessions() as session:
        keys = session.scalars(select(OutboundEvent.key)).all()
    assert f"import:{job_id}" not in keys
