"""run_import on SQLite and PostgreSQL: policies, dry runs, cancel, stop and resume."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports import jobs
from crmsync.imports.errors import JobStateError
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.store.engine import session_scope
from crmsync.store.models import ChangeLog, Contact
from crmsync.store.models.imports import ImportJob, ImportRow
from tests.conftest import Tenant
from tests.imports.conftest import PEOPLE_COLUMNS, MakeJob, people_csv

LEADS = (
    "First Name,Surname,E-mail,Phone\n"
    "ana,LIMA,ana@example.com,+1 212 555 0134\n"
    "Bo,Chen,bo@example,\n"
    "Ana,Lima,ANA@example.com ,\n"
    "Cy,Do,cy@example.com,\n"
)
COLUMNS = {"First Name": "first_name", "Surname": "last_name", "E-mail": "email", "Phone": "phone"}


def job_of(sessions: sessionmaker[Session], job_id: uuid.UUID) -> ImportJob:
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        return job


def contacts(sessions: sessionmaker[Session], workspace: uuid.UUID) -> list[Contact]:
    with sessions() as session:
        stmt = select(Contact).where(Contact.workspace_id == workspace).order_by(Contact.email)
        return list(session.scalars(stmt))


def counts(job: ImportJob) -> dict[str, Any]:
    keys = ("status", "processed", "created", "updated", "failed", "duplicates")
    return {k: getattr(job, k) for k in keys}


@pytest.mark.parametrize(
    ("policy", "expected", "emails"),
    [
        ("skip", (2, 0, 1, 1), ["ana@example.com", "cy@example.com"]),
        ("update", (2, 1, 1, 1), ["ana@example.com", "cy@example.com"]),
        ("create", (2, 1, 1, 0), ["ana@example.com", "cy@example.com"]),
    ],
)
def test_duplicate_policies(
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    policy: str,
    expected: tuple[int, int, int, int],
    emails: list[str],
) -> None:
    job_id = make_job(tenant.id, LEADS, COLUMNS, on_duplicate=policy, batch_size=2)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    job = job_of(sessions, job_id)
    created, updated, failed, duplicates = expected
    assert counts(job) == {
        "status": "completed",
        "processed": 4,
        "created": created,
        "updated": updated,
        "failed": failed,
        "duplicates": duplicates,
    }
    people = contacts(sessions, tenant.id)
    assert [c.email for c in people] == emails
    assert people[0].first_name == "Ana" and people[0].last_name == "Lima"
    assert people[0].phone == "+12125550134"
    with sessions() as session:
        sources = set(session.scalars(select(ChangeLog.source).where(
            ChangeLog.workspace_id == tenant.id)))  # fmt: skip
        outcomes = {r.row_number: r.outcome for r in session.scalars(
            select(ImportRow).where(ImportRow.job_id == job_id))}  # fmt: skip
    assert sources == {f"import:{job_id}"}
    assert outcomes[1] == "failed"
    assert (outcomes.get(2) == "duplicate") is (policy == "skip")


def test_fuzzy_duplicates_of_existing_records_are_skipped(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    first = make_job(tenant.id, LEADS, COLUMNS)
    run_import(sessions, first, limits=limits)
    again = "First Name,Surname,E-mail,Phone\nAnna,Lima,anna.lima@work.example,2125550134\n"
    second = make_job(tenant.id, again, COLUMNS)
    run_import(sessions, second, limits=limits)
    job = job_of(sessions, second)
    assert (job.created, job.duplicates) == (0, 1)
    with sessions() as session:
        row = session.scalars(select(ImportRow).where(ImportRow.job_id == second)).one()
    ana = next(c for c in contacts(sessions, tenant.id) if c.email == "ana@example.com")
    assert row.duplicate_of == ana.id


def test_dry_run_counts_and_writes_nothing(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, LEADS, COLUMNS, dry_run=True)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    job = job_of(sessions, job_id)
    assert (job.created, job.failed, job.duplicates) == (2, 1, 1)
    assert contacts(sessions, tenant.id) == []


def test_cancel_stops_after_the_current_batch_and_keeps_it(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(50), PEOPLE_COLUMNS, batch_size=10)

    def cancel_after_first(job: ImportJob) -> None:
        if job.next_row == 10:
            with sessions() as session:
                jobs.cancel_job(jobs.get_job(session, tenant.id, job_id))
                session.commit()

    assert run_import(sessions, job_id, limits=limits, on_batch=cancel_after_first) == "cancelled"
    assert len(contacts(sessions, tenant.id)) == 10
    with sessions() as session, pytest.raises(JobStateError):
        jobs.cancel_job(jobs.get_job(session, tenant.id, job_id))


def test_a_stopped_run_resumes_after_its_last_batch(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(45), PEOPLE_COLUMNS, batch_size=10)
    batches: list[int] = []
    status = run_import(
        sessions,
        job_id,
        lambda: len(batches) >= 2,
        limits=limits,
        on_batch=lambda job: batches.append(job.next_row),
    )
    assert (status, batches) == ("running", [10, 20])
    assert job_of(sessions, job_id).next_row == 20
    assert (
        run_import(sessions, job_id, limits=limits, on_batch=lambda j: batches.append(j.next_row))
        == "completed"
    )
    assert batches == [10, 20, 30, 40, 45]
    refs = sorted(c.external_ref or "" for c in contacts(sessions, tenant.id))
    assert refs == sorted(f"r{i}" for i in range(45))


def test_a_batch_larger_than_the_records_batch_limit_is_written_in_parts(
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from crmsync.records import service, upsert

    monkeypatch.setattr(upsert, "MAX_BATCH", 4)  # the limit upsert_records enforces
    monkeypatch.setattr(service, "MAX_BATCH", 4)
    # no dedup: row 5, without a ref, repeats row 1's e-mail in another part of the batch, and the
    # records service matches it to the record the first part created
    lines = people_csv(10).splitlines()
    lines[6] = ",".join(["", *lines[6].split(",")[1:3], lines[2].split(",")[3], ""])
    job_id = make_job(
        tenant.id, "\n".join(lines) + "\n", PEOPLE_COLUMNS, batch_size=10, on_duplicate="create"
    )
    assert run_import(sessions, job_id, limits=limits) == "completed"
    job = job_of(sessions, job_id)
    assert (job.processed, job.created, job.updated, job.failed) == (10, 9, 1, 0)
    assert len(contacts(sessions, tenant.id)) == 9


def test_a_live_run_is_not_taken_over_without_asking(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(5), PEOPLE_COLUMNS)
    run_import(sessions, job_id, lambda: True, limits=limits)  # claims it, then stops
    assert run_import(sessions, job_id, limits=limits, takeover=False) == "running"
    assert contacts(sessions, tenant.id) == []


def test_errors_report_and_retry_of_failed_rows(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    text = "name,email,tel\nAna,ana@example.com,=1+1\nBo,bo@,+1 212 555 0134\n"
    columns = {"name": "first_name", "email": "email", "tel": "phone"}
    # a bad phone fails its row here (by default it is a warning when there is an e-mail)
    job_id = make_job(tenant.id, text, columns, severity={"phone": "error"})
    run_import(sessions, job_id, limits=limits)
    with sessions() as session:
        job = jobs.get_job(session, tenant.id, job_id)
        report = "".join(jobs.errors_csv(session, job))
        lines = report.removeprefix("\ufeff").splitlines()
        assert lines[0] == "name,email,tel,_extra,import_line,import_errors"
        assert lines[1] == "Ana,ana@example.com,'=1+1,,2,tel: not a valid phone number"
        assert lines[2] == "Bo,bo@,'+1 212 555 0134,,3,email: not an e-mail address"
        retry = jobs.retry_failed(session, limits, job)
        jobs.start_job(retry)
        session.commit()
    assert run_import(sessions, retry.id, limits=limits) == "completed"
    again = job_of(sessions, retry.id)
    assert (again.total_rows, again.failed, again.retry_of) == (2, 2, job_id)


def test_a_file_over_the_row_cap_fails_the_job_before_any_row(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(5), PEOPLE_COLUMNS)
    capped = limits.model_copy(update={"max_rows": 3})
    assert run_import(sessions, job_id, limits=capped) == "failed"
    assert job_of(sessions, job_id).error == "the file has more than 3 rows"
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Contact).where(
            Contact.workspace_id == tenant.id)) == 0  # fmt: skip


def test_two_runs_of_one_job_never_import_a_row_twice(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(30), PEOPLE_COLUMNS, batch_size=10)
    second: list[str] = []

    def race(job: ImportJob) -> None:
        if not second:  # after the first run's first batch, a second run takes the job
            second.append(run_import(sessions, job_id, limits=limits))

    first = run_import(sessions, job_id, limits=limits, on_batch=race)
    assert (first, second) == ("completed", ["completed"])
    job = job_of(sessions, job_id)
    assert (job.status, job.processed, job.created, job.updated) == ("completed", 30, 30, 0)
    assert len(contacts(sessions, tenant.id)) == 30


def test_a_report_with_title_rows_imports_and_its_failed_rows_retry(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    text = "Leads report\n\nName,Email\nAna Lima,ana@example.com\nBo Chen,bo@\n"
    job_id = make_job(tenant.id, text, {"Name": "full_name", "Email": "email"}, header_row=3)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    assert counts(job_of(sessions, job_id))["created"] == 1
    with session_scope(sessions) as session:
        retry = jobs.retry_failed(session, limits, jobs.get_job(session, tenant.id, job_id))
        assert (retry.headers, retry.options["header_row"]) == (["Name", "Email"], None)
        jobs.start_job(retry)
    assert run_import(sessions, retry.id, limits=limits) == "completed"
    assert counts(job_of(sessions, retry.id))["failed"] == 1
    (person,) = contacts(sessions, tenant.id)
    assert (person.first_name, person.last_name) == ("Ana", "Lima")


SHARED_EMAIL = (
    "First Name,Surname,E-mail,Phone\n"
    "Zoe,van der Berg,family@example.com,+1 415 555 0100\n"
    "Mary,O'Neil,family@example.com,+1 415 555 0100\n"
    "John,Smith,FAMILY@example.com ,\n"
)


@pytest.mark.parametrize("batch_size", [1, 2, 500])
@pytest.mark.parametrize("policy", ["skip", "update"])
def test_a_row_only_possibly_a_duplicate_never_overwrites_the_person_sharing_its_email(
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    batch_size: int,
    policy: str,
) -> None:
    # Three people of one household share an e-mail address. The duplicate check does not
    # call them duplicates of each other (at most possible ones, queued for review): each
    # is imported as a record of its own, and nobody's name is replaced by another's.
    job_id = make_job(tenant.id, SHARED_EMAIL, COLUMNS, on_duplicate=policy, batch_size=batch_size)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    job = job_of(sessions, job_id)
    assert (job.created, job.updated, job.duplicates) == (3, 0, 0)
    names = sorted((c.first_name, c.last_name) for c in contacts(sessions, tenant.id))
    assert names == [("John", "Smith"), ("Mary", "O'Neil"), ("Zoe", "van der Berg")]
