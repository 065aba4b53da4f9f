"""Total Expert loans, lead opportunities and contact notes against the sandbox: each
names its contact by Total Expert's id, and reads give it back as ``contact_id``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crmsync.connectors.base import Outcome
from tests.connectors.contract.targets import TotalExpertTarget


@pytest.fixture(scope="module")
def served() -> Iterator[TotalExpertTarget]:
    target = TotalExpertTarget()
    yield target
    target.stop()


@pytest.fixture
def target(served: TotalExpertTarget) -> TotalExpertTarget:
    served.reset()
    return served


def _contact(target: TotalExpertTarget) -> str:
    connector = target.connector()
    (made,) = connector.upsert(
        "contacts",
        [{"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com", "owner.id": 1}],
        "email",
    )
    assert made.ok, made
    return str(made.remote_id)


def test_a_loan_names_its_borrower_and_reads_back_with_it(target: TotalExpertTarget) -> None:
    contact = _contact(target)
    connector = target.connector()
    loan = {"loan_number": "LN-1", "loan_amount": 250000, "contact_id": contact}
    (first,) = connector.upsert("deals", [loan], None)
    (again,) = connector.upsert("deals", [loan], None)  # the loan number is its identity
    assert (first.outcome, again.outcome) == (Outcome.CREATED, Outcome.UPDATED)
    assert first.remote_id == again.remote_id
    page = connector.changes("deals", None)
    assert [(r.remote_id, str(r.properties["contact_id"])) for r in page.records] == [
        (first.remote_id, contact)
    ]
    (orphan,) = connector.upsert("deals", [{"loan_number": "LN-2"}], None)
    assert orphan.outcome is Outcome.ERROR and "borrower" in str(orphan.error)


def test_a_lead_opportunity_keeps_its_contact_across_updates(target: TotalExpertTarget) -> None:
    contact = _contact(target)
    connector = target.connector()
    lead = {"first_name": "Ann", "last_name": "Lee", "email": "ann@example.com"}
    (made,) = connector.upsert("leads", [{**lead, "contact_id": contact}], None)
    assert made.outcome is Outcome.CREATED
    # an update without the contact: the connector repeats it, as Total Expert demands
    (changed,) = connector.upsert("leads", [{"id": made.remote_id, "stage.id": "Qualified"}], None)
    assert changed.outcome is Outcome.UPDATED
    (read,) = connector.read("leads", [str(made.remote_id)])  # type: ignore[attr-defined]
    assert str(read.properties["contact_id"]) == contact
    assert read.properties["stage.id"] == "Qualified"


def test_a_note_hangs_on_its_contact(target: TotalExpertTarget) -> None:
    contact = _contact(target)
    connector = target.connector()
    (made,) = connector.upsert("notes", [{"note": "Call back Monday", "contact_id": contact}], None)
    assert made.outcome is Outcome.CREATED
    page = connector.changes("notes", None)
    assert [(r.remote_id, str(r.properties["contact_id"])) for r in page.records] == [
        (made.remote_id, contact)
    ]
    (orphan,) = connector.upsert("notes", [{"note": "to no one"}], None)
    assert orphan.outcome is Outcome.ERROR
