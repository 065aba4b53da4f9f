"""A deal's probability is a share (0 to 1); exports write it as a percentage
(Salesforce's "Probability (%)" column holds 50), and imports read it as one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.store.models import Deal
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob


def _probabilities(
    sessions: sessionmaker[Session],
    tenant: Tenant,
    make_job: MakeJob,
    limits: ImportSettings,
    text: str,
    header: str,
) -> dict[str, float | None]:
    columns = {"Opportunity Name": "name", header: "probability"}
    job_id = make_job(tenant.id, text, columns, filename="opps.csv", object_type="deals")
    run_import(sessions, job_id, limits=limits)
    with sessions() as session:
        deals = session.scalars(select(Deal).where(Deal.workspace_id == tenant.id))
        return {d.name: d.probability for d in deals}


def test_a_column_that_says_percent_is_read_as_percentages(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    text = "Opportunity Name,Probability (%)\nBig,50\nWon,100%\nMid,33.3\nCold,0\n"
    found = _probabilities(sessions, tenant, make_job, limits, text, "Probability (%)")
    assert found == {"Big": 0.5, "Won": 1.0, "Mid": 0.333, "Cold": 0.0}


def test_a_plain_column_holds_shares_and_a_percent_sign_still_counts(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    text = "Opportunity Name,Probability\nBig,0.5\nWon,100%\nWrong,50\n"
    found = _probabilities(sessions, tenant, make_job, limits, text, "Probability")
    # 50 in a column that does not say percent is refused, not guessed at
    assert found == {"Big": 0.5, "Won": 1.0}
