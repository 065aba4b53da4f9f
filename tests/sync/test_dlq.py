"""The dead-letter queue over the API and the CLI."""

from __future__ import annotations

import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from crmsync.auth.permissions import Role
from crmsync.cli import app
from crmsync.store.models import Integration, SyncJob
from tests.conftest import Tenant


def _dead_jobs(db: Session, tenant: Tenant, n: int) -> tuple[uuid.UUID, list[int]]:
    integration = Integration(workspace_id=tenant.id, provider="hubspot", name="hs", config={})
    db.add(integration)
    db.flush()
    jobs = []
    for i in range(n):
        job = SyncJob(
            workspace_id=tenant.id,
            integration_id=integration.id,
            object_type="contacts",
            record_id=uuid.uuid4(),
            operation="upsert",
            status="dead",
            attempts=5,
            last_error=f"502 bad gateway #{i}",
            error_class="Transient",
        )
        db.add(job)
        db.flush()
        jobs.append(job.id)
    db.commit()
    return integration.id, jobs


def test_list_and_replay_over_the_api(
    client: TestClient, tenant: Tenant, db: Session, make_tenant
) -> None:  # type: ignore[no-untyped-def]
    _integration, ids = _dead_jobs(db, tenant, 3)
    h = tenant.headers(Role.MANAGER)
    page = client.get("/api/v1/sync-jobs", params={"limit": 2}, headers=h).json()
    assert [j["id"] for j in page["items"]] == ids[:2]
    assert page["items"][0]["last_error"] == "502 bad gateway #0"
    rest = client.get("/api/v1/sync-jobs", params={"cursor": page["next_cursor"]}, headers=h).json()
    assert [j["id"] for j in rest["items"]] == ids[2:] and rest["next_cursor"] is None

    replayed = client.post(f"/api/v1/sync-jobs/{ids[0]}/replay", headers=h).json()
    assert (replayed["status"], replayed["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/sync-jobs/{ids[0]}/replay", headers=h)
    assert again.status_code == 409
    other = make_tenant()
    assert (
        client.post(f"/api/v1/sync-jobs/{ids[1]}/replay", headers=other.headers()).status_code
        == 404
    )
    assert client.get("/api/v1/sync-jobs", headers=other.headers()).json()["items"] == []

    assert client.post("/api/v1/sync-jobs/replay-all", headers=h).json() == {"replayed": 2}
    assert client.get("/api/v1/sync-jobs", headers=h).json()["items"] == []
    pending = client.get("/api/v1/sync-jobs", params={"status": "pending"}, headers=h).json()
    assert len(pending["items"]) == 3


def test_replay_leaves_the_work_to_a_newer_pending_job(
    client: TestClient, tenant: Tenant, db: Session
) -> None:
    integration, (dead_id,) = _dead_jobs(db, tenant, 1)
    dead = db.get(SyncJob, dead_id)
    assert dead is not None
    db.add(
        SyncJob(
            workspace_id=tenant.id,
            integration_id=integration,
            object_type="contacts",
            record_id=dead.record_id,
            operation="upsert",
            status="pending",
        )
    )
    db.commit()
    answer = client.post(f"/api/v1/sync-jobs/{dead_id}/replay", headers=tenant.headers()).json()
    assert answer["status"] == "dead"  # the pending job will push the record's current state


def test_dlq_cli(tmp_path: Path) -> None:
    from crmsync.store.engine import make_engine, make_sessionmaker
    from crmsync.workspaces import create_workspace

    url = f"sqlite:///{tmp_path / 'dlq.db'}"
    runner = CliRunner()
    env = {"CRMSYNC_DATABASE_URL": url, "COLUMNS": "250"}
    assert runner.invoke(app, ["migrate"], env=env).exit_code == 0
    with make_sessionmaker(make_engine(url))() as db:
        ws = create_workspace(db, "cli")
        db.commit()
        tenant = Tenant(ws.id, {})
        _i, ids = _dead_jobs(db, tenant, 2)
    listed = runner.invoke(app, ["dlq", "list", "--workspace", str(ws.id)], env=env)
    assert listed.exit_code == 0 and "502 bad gateway #1" in listed.stdout
    assert runner.invoke(app, ["dlq", "replay", "--workspace", str(ws.id)], env=env).exit_code == 2
    one = runner.invoke(app, ["dlq", "replay", str(ids[0]), "--workspace", str(ws.id)], env=env)
    assert one.exit_code == 0, one.output
    rest = runner.invoke(app, ["dlq", "replay", "--all", "--workspace", str(ws.id)], env=env)
    assert rest.exit_code == 0 and "replayed 1" in rest.output
    missing = runner.invoke(app, ["dlq", "replay", "424242", "--workspace", str(ws.id)], env=env)
    assert missing.exit_code == 1
