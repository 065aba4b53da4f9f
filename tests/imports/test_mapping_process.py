"""Large files are read, mapped and dedup-checked in a second process: same outcome,
nothing left running."""

from __future__ import annotations

import multiprocessing
import pickle
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.dedup.engine import DedupSettings
from crmsync.dedup.guard import DuplicateGuard, GuardSource, source_for_second_process
from crmsync.imports import jobs
from crmsync.imports.errors import FileTooLarge
from crmsync.imports.mapped import BatchSource, MappedBatches
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.quality.normalize import normalize_email
from crmsync.records.service import upsert_records
from crmsync.store.engine import make_engine, session_scope
from crmsync.store.models import Contact
from crmsync.store.models.imports import ImportJob
from tests.conftest import Tenant
from tests.imports.conftest import PEOPLE_COLUMNS, MakeJob, people_csv

PROCESS_NAME = "crmsync-import-mapping"


def _awkward_people(count: int) -> str:
    """People, every 7th with a bad e-mail, every 5th an earlier row's person again."""
    lines = people_csv(count).splitlines()
    for n in range(1, len(lines)):
        ref, first, last, email, phone = lines[n].split(",")
        if n % 7 == 0:
            email = email.replace("@", " at ")
        elif n % 5 == 0 and n > 5:  # the same person again, under another ref
            first, last, email = lines[n - 3].split(",")[1:4]
        lines[n] = ",".join([ref, first, last, email, phone])
    return "\n".join(lines) + "\n"


def _outcome(sessions: sessionmaker[Session], workspace: uuid.UUID, job_id: uuid.UUID) -> Any:
    with sessions() as session:
        job = jobs.get_job(session, workspace, job_id)
        counts = (job.status, job.processed, job.created, job.updated, job.failed, job.duplicates)
        report = "".join(jobs.errors_csv(session, job))
        emails = session.scalars(
            select(Contact.email).where(Contact.workspace_id == workspace).order_by(Contact.email)
        ).all()
        return counts, report.count("\n"), emails


def test_a_second_process_maps_with_the_outcome_of_one(
    sessions: sessionmaker[Session],
    make_tenant: Callable[[], Tenant],
    make_job: MakeJob,
    limits: ImportSettings,
) -> None:
    text = _awkward_people(120)
    outcomes = []
    for from_mb in (1000.0, 0.0):  # in this process, then in a second one
        tenant = make_tenant()
        job_id = make_job(tenant.id, text, PEOPLE_COLUMNS, batch_size=25)
        names: list[list[str]] = []

        def look(_job: ImportJob, names: list[list[str]] = names) -> None:
            names.append([p.name for p in multiprocessing.active_children()])

        in_or_out = limits.model_copy(update={"mapping_process_from_mb": from_mb})
        run_import(sessions, job_id, limits=in_or_out, on_batch=look)
        assert (PROCESS_NAME in names[0]) is (from_mb == 0.0)
        outcomes.append(_outcome(sessions, tenant.id, job_id))
    assert outcomes[0] == outcomes[1]
    (status, processed, created, _updated, failed, duplicates), _lines, _emails = outcomes[0]
    assert (status, processed) == ("completed", 120)
    assert failed > 10 and duplicates > 10 and created == 120 - failed - duplicates
    assert PROCESS_NAME not in [p.name for p in multiprocessing.active_children()]


def test_a_stopped_run_leaves_no_mapping_process_and_resumes(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    job_id = make_job(tenant.id, people_csv(200), PEOPLE_COLUMNS, batch_size=10)
    in_process = limits.model_copy(update={"mapping_process_from_mb": 0.0})
    batches: list[int] = []
    # the mapping process is batches ahead, blocked on a full queue, when the run stops
    status = run_import(
        sessions, job_id, lambda: len(batches) >= 2, limits=in_process,
        on_batch=lambda job: batches.append(job.next_row),
    )  # fmt: skip
    assert (status, batches) == ("running", [10, 20])
    assert PROCESS_NAME not in [p.name for p in multiprocessing.active_children()]
    assert run_import(sessions, job_id, limits=in_process) == "completed"
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        assert (job.processed, job.created) == (200, 200)


def _source(limits: ImportSettings, path: Any, **changes: Any) -> BatchSource:
    fields: dict[str, Any] = {
        "path": path,
        "filename": path.name,
        "file_format": "csv",
        "sheet": None,
        "limits": limits.model_dump(),
        "object_type": "contacts",
        "columns": PEOPLE_COLUMNS,
        "region": "US",
        "cleanse": True,
        "validate": True,
        "batch_size": 10,
        "dedup_region": "US",
    }
    return BatchSource(**(fields | changes))


def test_a_problem_the_mapping_process_meets_is_raised_here(
    tmp_path: Any, limits: ImportSettings
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(people_csv(30))
    small = limits.model_copy(update={"max_rows": 25})
    with MappedBatches(_source(small, path), 0, True) as batches:
        seen = []
        with pytest.raises(FileTooLarge, match="more than 25 rows"):
            for batch in batches:
                seen.append(len(batch.rows))
    assert seen == [10, 10]


def test_the_mapping_process_gives_the_batches_of_this_one(
    tmp_path: Any, limits: ImportSettings
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(_awkward_people(45))
    source = _source(limits, path)
    here = list(MappedBatches(source, 5, False))
    with MappedBatches(source, 5, True) as there:
        away = list(there)
    assert [len(b.rows) for b in away] == [10, 10, 10, 10] == [len(b.rows) for b in here]
    for mine, theirs in zip(here, away, strict=True):
        assert (mine.rows, mine.failed, mine.valid) == (theirs.rows, theirs.failed, theirs.valid)
        assert mine.normal_emails == theirs.normal_emails
        assert mine.dedup is not None and theirs.dedup is not None
        assert mine.dedup.equals(theirs.dedup)


def test_the_mapping_process_checks_duplicates_as_this_one_would(
    tmp_path: Any, limits: ImportSettings, database_url: str, sessions: sessionmaker[Session],
    tenant: Tenant,
) -> None:  # fmt: skip
    path = tmp_path / "people.csv"
    text = _awkward_people(60)
    path.write_text(text)
    first, last, email = text.splitlines()[9].split(",")[1:4]
    with session_scope(sessions) as session:  # an existing contact that row 8 duplicates
        upsert_records(session, tenant.id, "contacts", [
            {"first_name": first, "last_name": last, "email": email}], "api")  # fmt: skip
    settings = DedupSettings()
    index = GuardSource(database_url, str(tenant.id), "contacts", settings.model_dump())
    with MappedBatches(_source(limits, path, dedup_index=index), 0, True) as there:
        away = list(there)
    with sessions() as session:
        guard = DuplicateGuard.load(session, tenant.id, "contacts", settings)
    for batch in MappedBatches(_source(limits, path), 0, False):
        assert away.pop(0).duplicates == guard.check_batch(batch.keyed(), batch.dedup)
    assert away == []
    first_batch = next(iter(MappedBatches(_source(limits, path, dedup_index=index), 0, False)))
    assert first_batch.duplicates is not None and first_batch.dedup is None
    status, matched, _score = first_batch.duplicates["row:8"]
    assert status == "duplicate" and not matched.startswith("row:")  # the existing contact


def test_a_row_the_records_service_refuses_fails_before_dedup(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    long_name = "A" * 300
    text = (
        "ref,first,last,email,phone\n"
        f"r1,{long_name},Lima,ana@example.com,\n"
        f"r2,{long_name},Lima,ana@example.com,\n"  # the same row again
        "r3,Bo,Chen,bo@example.com,\n"
    )
    job_id = make_job(tenant.id, text, PEOPLE_COLUMNS)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    counts, _lines, emails = _outcome(sessions, tenant.id, job_id)
    # both copies fail with the reason; neither stands in for the other as a duplicate
    assert counts == ("completed", 3, 1, 0, 2, 0)
    assert emails == ["bo@example.com"]
    with sessions() as session:
        report = "".join(jobs.errors_csv(session, jobs.get_job(session, tenant.id, job_id)))
    assert report.count("first: longer than 100 characters") == 2


def test_dedup_stays_in_the_importing_process_when_rows_set_references(
    sessions: sessionmaker[Session], tmp_path: Any, limits: ImportSettings, tenant: Tenant
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(people_csv(3))
    settings = DedupSettings()
    plain = _source(limits, path)

    def where(factory: sessionmaker[Session], source: BatchSource) -> GuardSource | None:
        targets = source.columns.values()
        return source_for_second_process(factory, tenant.id, "contacts", targets, settings)

    assert where(sessions, plain) is not None
    with_company = _source(limits, path, columns={**PEOPLE_COLUMNS, "company": "company_id"})
    assert where(sessions, with_company) is None
    in_memory = sessionmaker(make_engine("sqlite://"))
    assert where(in_memory, plain) is None


def test_a_batch_names_the_addresses_it_normalised_for_the_writer(
    tmp_path: Any, limits: ImportSettings
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "ref,first,last,email,phone\n"
        "r1,Ann,Lee, Ann.Lee@Example.COM ,\n"
        "r2,Bo,Ng,bo@ng.example,\n"
        "r3,Cy,Fo,cy at fo.example,4155550100\n"
        "r4,Di,Oz,,4155550101\n"
    )
    (batch,) = MappedBatches(_source(limits, path), 0, False)
    # the writer takes these as their own email keys: each is normalize_email's answer
    assert batch.normal_emails == ["ann.lee@example.com", "bo@ng.example"]
    assert all(normalize_email(e) == e for e in batch.normal_emails)
    sent = pickle.loads(pickle.dumps(batch))  # noqa: S301 - as the queue hands it over
    assert sent.rows == batch.rows and sent.rows[0].line == 2
    assert [row.problem for row, _errors in sent.failed] == [None]
