"""Undo an import on SQLite and PostgreSQL: the prior state comes back, later changes stay."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports import jobs, outcomes
from crmsync.imports.errors import JobStateError
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.imports.undo import undo_import
from crmsync.records import service
from crmsync.records.payloads import to_dict
from crmsync.store.engine import session_scope
from crmsync.store.models import Contact, Integration, SyncJob
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob

COLUMNS = {
    "ref": "external_ref",
    "first": "first_name",
    "last": "last_name",
    "email": "email",
    "city": "city",
    "tier": "custom_fields.tier",
}
FILE = (
    "ref,first,last,email,city,tier\n"
    "a,Anna,Lima,ana@example.com,Austin,silver\n"  # updates A by its ref
    "c,Cy,Do,cy@example.com,,\n"  # new
    ",Bob,Chen-Li,bob@example.com,,\n"  # duplicates B by e-mail: updates it (on_duplicate)
    "d,Dee,Eve,dee@example.com,Denver,gold\n"  # new
)
# what a record's state is: everything but the bookkeeping every write moves
BOOKKEEPING = {"version", "updated_at"}


def _seed(sessions: sessionmaker[Session], workspace: uuid.UUID) -> dict[str, uuid.UUID]:
    with session_scope(sessions) as session:
        a = service.create_record(
            session, workspace, "contacts",
            {"external_ref": "a", "first_name": "Ann", "last_name": "Lima",
             "email": "ana@example.com", "custom_fields": {"tier": "gold", "vip": True}},
            "api",
        )  # fmt: skip
        b = service.create_record(
            session, workspace, "contacts",
            {"first_name": "Bob", "last_name": "Chen", "email": "bob@example.com",
             "city": "Boston"},
            "api",
        )  # fmt: skip
        return {"a": a.id, "b": b.id}


def _state(sessions: sessionmaker[Session], workspace: uuid.UUID) -> dict[uuid.UUID, Any]:
    with sessions() as session:
        stmt = select(Contact).where(
            Contact.workspace_id == workspace, Contact.deleted_at.is_(None)
        )
        return {
            c.id: {k: v for k, v in to_dict(c).items() if k not in BOOKKEEPING}
            for c in session.scalars(stmt)
        }


def _import(
    sessions: sessionmaker[Session], make_job: MakeJob, limits: ImportSettings, workspace: uuid.UUID
) -> uuid.UUID:
    job_id = make_job(workspace, FILE, COLUMNS, on_duplicate="update", batch_size=2)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    return job_id


def test_undo_restores_the_state_before_the_import_exactly(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    _seed(sessions, tenant.id)
    before = _state(sessions, tenant.id)
    job_id = _import(sessions, make_job, limits, tenant.id)
    during = _state(sessions, tenant.id)
    assert len(during) == 4 and during != before
    with session_scope(sessions) as session:
        job = jobs.get_job(session, tenant.id, job_id)
        result = undo_import(session, job)
    assert result.as_dict() == {
        "deleted": 2,
        "restored_records": 2,
        "restored_fields": 4,  # A: first_name, city, custom_fields; B: last_name
        "not_undone": [],
    }
    assert _state(sessions, tenant.id) == before
    with session_scope(sessions) as session, pytest.raises(JobStateError, match="undone already"):
        undo_import(session, jobs.get_job(session, tenant.id, job_id))


def test_what_changed_since_the_import_is_not_undone(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    ids = _seed(sessions, tenant.id)
    job_id = _import(sessions, make_job, limits, tenant.id)
    with sessions() as session:
        job = jobs.get_job(session, tenant.id, job_id)
        created = {
            item["record_id"]: item["line"] for item in outcomes.outcomes(session, job, "created")
        }
    dee = next(uuid.UUID(r) for r, line in created.items() if line == 5)
    with session_scope(sessions) as session:
        service.update_record(session, tenant.id, "contacts", dee, {"city": "Dallas"}, "api")
        service.update_record(session, tenant.id, "contacts", ids["a"], {"city": "Albany"}, "api")
    with session_scope(sessions) as session:
        result = undo_import(session, jobs.get_job(session, tenant.id, job_id))
    assert result.deleted == 1
    assert sorted(result.not_undone, key=str) == sorted(
        [
            {"record_id": str(dee), "field": None,
             "reason": "the record was changed since the import (api)"},
            {"record_id": str(ids["a"]), "field": "city",
             "reason": "changed since the import (api)"},
        ],
        key=str,
    )  # fmt: skip
    state = _state(sessions, tenant.id)
    assert state[ids["a"]]["first_name"] == "Ann"  # restored
    assert state[ids["a"]]["city"] == "Albany"  # changed since: kept
    assert state[dee]["city"] == "Dallas"


def test_rows_list_every_outcome_with_its_record(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    ids = _seed(sessions, tenant.id)
    text = FILE + "e,Eve,,not-an-email,,\n"
    job_id = make_job(tenant.id, text, COLUMNS, batch_size=2)  # on_duplicate: skip
    run_import(sessions, job_id, limits=limits)
    with sessions() as session:
        job = jobs.get_job(session, tenant.id, job_id)
        every = list(outcomes.outcomes(session, job))
        first, after = outcomes.page(session, job, None, -1, 2)
        rest, end = outcomes.page(session, job, None, after or 0, 10)
        failed = list(outcomes.outcomes(session, job, "failed"))
    assert [(o["line"], o["outcome"]) for o in every] == [
        (2, "duplicate"), (3, "created"), (4, "duplicate"), (5, "created"), (6, "failed")
    ]  # fmt: skip
    # a duplicate names the record it duplicates; a created row its new record
    assert (every[0]["record_id"], every[2]["record_id"]) == (str(ids["a"]), str(ids["b"]))
    assert every[1]["record_id"] not in (None, str(ids["a"]), str(ids["b"]))
    assert first + rest == every and end is None
    assert failed[0]["reasons"] == [
        "email: not an e-mail address",
        "one of email, phone is required",
    ]


@pytest.mark.parametrize("propagates", [True, False])
def test_sync_jobs_follow_an_undo(
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    propagates: bool,
) -> None:
    ids = _seed(sessions, tenant.id)
    with session_scope(sessions) as session:
        config = {"objects": {"contacts": "both"}, "delete_propagation": propagates}
        session.add(Integration(workspace_id=tenant.id, provider="hubspot", name="hs",
                                config=config))  # fmt: skip
    job_id = _import(sessions, make_job, limits, tenant.id)
    with session_scope(sessions) as session:
        session.execute(delete(SyncJob).where(SyncJob.workspace_id == tenant.id))
    with session_scope(sessions) as session:
        result = undo_import(session, jobs.get_job(session, tenant.id, job_id))
    assert result.deleted == 2
    with sessions() as session:
        stmt = select(SyncJob.record_id, SyncJob.operation).where(SyncJob.workspace_id == tenant.id)
        queued = {(row[0], row[1]) for row in session.execute(stmt)}
    # the restored records are pushed again; deletes only where the integration propagates
    restored = {(ids["a"], "upsert"), (ids["b"], "upsert")}
    deletes = {job for job in queued if job[1] == "delete"}
    assert queued - deletes == restored
    assert len(deletes) == (2 if propagates else 0)
