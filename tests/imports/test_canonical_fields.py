"""Fields the records API accepts import from files too: a contact's date of birth, a
company's address, state, postal code and owner (the mapping schema once lacked them)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.imports.templates import template_fields
from crmsync.mapping.suggest import suggest_mappings
from crmsync.store.models import Company, Contact
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob

PEOPLE = "E-mail,Date of Birth\nana@example.com,1980-04-30\nbo@example.com,\n"
COMPANIES = (
    "Company Name,Street,State,Zip,Account Owner\nAcme Mortgage,1 Main St,CA,94105,Dana Reyes\n"
)


def test_a_date_of_birth_column_imports(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    columns = {"E-mail": "email", "Date of Birth": "date_of_birth"}
    job_id = make_job(tenant.id, PEOPLE, columns)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    with sessions() as session:
        stmt = select(Contact).where(Contact.workspace_id == tenant.id).order_by(Contact.email)
        people = [(c.email, c.date_of_birth) for c in session.scalars(stmt)]
    assert people == [("ana@example.com", date(1980, 4, 30)), ("bo@example.com", None)]


def test_company_columns_import_without_a_mapping(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    # no mapping given: the suggested one finds every column (address, state, zip, owner
    # were no mapping targets of companies before)
    job_id = make_job(tenant.id, COMPANIES, None, filename="companies.csv", object_type="companies")
    assert run_import(sessions, job_id, limits=limits) == "completed"
    with sessions() as session:
        company = session.scalars(select(Company).where(Company.workspace_id == tenant.id)).one()
    assert (company.name, company.address_line1, company.state, company.postal_code) == (
        "Acme Mortgage",
        "1 Main St",
        "CA",
        "94105",
    )
    assert company.owner == "Dana Reyes"


def test_suggestions_and_templates_know_the_fields() -> None:
    [birth] = suggest_mappings(["Date of Birth"], None, "contacts", for_import=True)
    assert birth.target == "date_of_birth"
    assert "date_of_birth" in template_fields("contacts")
    assert {"address_line1", "state", "postal_code", "owner"} <= set(template_fields("companies"))
