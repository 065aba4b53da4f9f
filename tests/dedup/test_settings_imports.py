"""The settings stored through the API are the ones lead-file imports apply."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.store.models.imports import ImportJob
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob, limits, make_job  # noqa: F401  (fixtures)

COLUMNS = {"First Name": "first_name", "Surname": "last_name", "E-mail": "email"}
FIRST = "First Name,Surname,E-mail\nAna,Lima,ana@example.com\n"
AGAIN = "First Name,Surname,E-mail\nAna,Lima,ANA@example.com\n"


def _duplicates(sessions: sessionmaker[Session], job_id: object) -> int:
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        return job.duplicates


def test_import_follows_the_workspace_settings(
    client: TestClient,
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,  # noqa: F811
    limits: ImportSettings,  # noqa: F811
) -> None:
    run_import(sessions, make_job(tenant.id, FIRST, COLUMNS), limits=limits)
    checked = make_job(tenant.id, AGAIN, COLUMNS)
    run_import(sessions, checked, limits=limits)
    assert _duplicates(sessions, checked) == 1  # the same email: a duplicate by default

    off = {"exact_email": False, "fuzzy_name": False, "other_fields": False}
    answer = client.put("/api/v1/settings/dedup", json=off, headers=tenant.headers())
    assert answer.status_code == 200
    unchecked = make_job(tenant.id, AGAIN.replace("ANA", "Ana"), COLUMNS)
    run_import(sessions, unchecked, limits=limits)
    assert _duplicates(sessions, unchecked) == 0
