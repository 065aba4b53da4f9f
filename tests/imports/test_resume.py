"""A job whose worker process is SIGKILLed mid-run resumes and imports every row once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.records.changelog import CREATED
from crmsync.store.models import ChangeLog, Contact
from crmsync.store.models.imports import ImportJob
from tests.conftest import Tenant
from tests.e2e.waiting import PATIENCE
from tests.imports.conftest import PEOPLE_COLUMNS, MakeJob, people_csv

ROWS = 160
ROOT = Path(__file__).resolve().parents[2]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"  # ended, not yet reaped
    except FileNotFoundError:
        return True


# mapping in the worker process, and in a second process of its (which must end with it)
@pytest.mark.parametrize("mapping_process", [False, True], ids=["one-process", "two-processes"])
def test_killed_worker_resumes_with_every_row_imported_once(
    sessions: sessionmaker[Session],
    database_url: str,
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    mapping_process: bool,
) -> None:
    job_id = make_job(tenant.id, people_csv(ROWS), PEOPLE_COLUMNS, batch_size=20)
    env = os.environ | {"CRMSYNC_MAPPING_PROCESS_FROM_MB": "0" if mapping_process else "1000"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.imports.killable_worker", database_url, str(job_id),
         str(limits.data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )  # fmt: skip
    assert worker.stdout is not None
    seen: list[str] = []
    children: set[int] = set()
    for line in worker.stdout:  # log lines go to stdout too
        if line.startswith("batch"):
            seen.append(line.strip())
        if line.startswith("child"):
            children.add(int(line.split()[1]))
        if len(seen) == 3:
            break
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert seen == ["batch 20", "batch 40", "batch 60"]
    assert worker.returncode == -signal.SIGKILL
    assert len(children) == (1 if mapping_process else 0)
    deadline = time.monotonic() + PATIENCE
    while not all(_gone(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in children), "the mapping process outlived its worker"

    with sessions() as session:
        killed = session.get(ImportJob, job_id)
        assert killed is not None
        assert killed.status == "running"
        assert 60 <= killed.next_row < ROWS

    assert run_import(sessions, job_id, limits=limits) == "completed"
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        assert (job.processed, job.created, job.updated, job.failed) == (ROWS, ROWS, 0, 0)
        refs = session.scalars(
            select(Contact.external_ref).where(Contact.workspace_id == tenant.id)
        ).all()
        assert sorted(refs) == sorted(f"r{i}" for i in range(ROWS))
        creations = session.scalar(
            select(func.count()).where(
                ChangeLog.workspace_id == tenant.id, ChangeLog.field == CREATED
            )
        )
        assert creations == ROWS
