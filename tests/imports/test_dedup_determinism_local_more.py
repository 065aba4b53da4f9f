"""An import's outcome per row does not depend on its batch size or its process count.

Rows are drawn from a few people, with the variations that make dedup decide: the same
person again (same e-mail, a typo, another phone format), namesakes with their own
e-mail and a neighbouring phone line, a household sharing a phone, and people already
in the workspace.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.dedup.engine import DuplicateIndex
from crmsync.dedup.guard import DuplicateGuard
from crmsync.dedup.reviews import POSSIBLE
from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings
from crmsync.records.service import upsert_records
from crmsync.store.engine import session_scope
from crmsync.store.models import Contact, DuplicateReview
from crmsync.store.models.imports import ImportJob, ImportRow
from tests.conftest import Tenant
from tests.imports.conftest import MakeJob

COLUMNS = {
    "ref": "external_ref",
    "first": "first_name",
    "last": "last_name",
    "email": "email",
    "phone": "phone",
    "company": "company",
}
PEOPLE = [
    ("John", "Smith", "acme.com", "4155550100"),
    ("John", "Smith", "acme.com", "4155550101"),  # a namesake, the next office line
    ("Maria", "Garcia", "acme.com", "4155550102"),
    ("Maria", "Garcia", "globex.com", "6175550140"),
    ("Wilhelmina", "Oyelaran", "initech.com", "2125550177"),
    ("Robert", "Oyelaran", "initech.com", "2125550177"),  # her household's phone
    ("Priya", "Raghunathan", "umbrella.com", "3125550123"),
]
# how a row shows its person: 0 as is, 1 e-mail only, 2 phone only (another format),
# 3 a typo in the first name, 4 a personal e-mail and the phone, 5 a numbered e-mail
VARIANTS = 6


def _row(ref: int, person: int, variant: int) -> list[str]:
    first, last, domain, phone = PEOPLE[person]
    local = f"{first}.{last}".lower()
    email = f"{local}{person}@{domain}" if person in (1, 3) else f"{local}@{domain}"
    shown_phone = phone
    if variant == 1:
        shown_phone = ""
    elif variant == 2:
        email, shown_phone = "", f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
    elif variant == 3:
        first = first[:2] + first[3:] + first[2] if len(first) > 4 else first
    elif variant == 4:
        email = f"{first.lower()}{last.lower()}@gmail.com"
    elif variant == 5:
        email = f"{local}{person + 7}@{domain}"
    company = domain.split(".")[0].title()
    return [f"r{ref}", first, last, email, shown_phone, company]


def _csv(rows: list[tuple[int, int]]) -> str:
    lines = [",".join(COLUMNS)]
    lines += [",".join(_row(n, person, variant)) for n, (person, variant) in enumerate(rows)]
    return "\n".join(lines) + "\n"


FILES = st.lists(
    st.tuples(st.integers(0, len(PEOPLE) - 1), st.integers(0, VARIANTS - 1)),
    min_size=2,
    max_size=30,
)
EXISTING = st.lists(st.integers(0, len(PEOPLE) - 1), max_size=3, unique=True)


def _outcome(
    sessions: sessionmaker[Session], workspace: uuid.UUID, job_id: uuid.UUID
) -> dict[int, Any]:
    """Per row number: created / failed / (duplicate, the ref or e-mail it matched), and
    for a created row the refs it was queued for review with."""
    with sessions() as session:
        contacts = session.scalars(select(Contact).where(Contact.workspace_id == workspace)).all()
        name = {c.id: c.external_ref or f"existing:{c.email}:{c.phone}" for c in contacts}
        out: dict[int, Any] = {}
        for c in contacts:
            if c.external_ref:
                out[int(c.external_ref[1:])] = ["created"]
        for row in session.scalars(select(ImportRow).where(ImportRow.job_id == job_id)):
            matched = name.get(row.duplicate_of) if row.duplicate_of else None
            out[row.row_number] = [row.outcome, matched]
        reviews = session.scalars(
            select(DuplicateReview).where(
                DuplicateReview.workspace_id == workspace, DuplicateReview.status == POSSIBLE
            )
        ).all()
        for review in reviews:
            left, right = name[review.left_id], name[review.right_id]
            for mine, other in ((left, right), (right, left)):
                if mine.startswith("r"):
                    out[int(mine[1:])].append(other)
        return {k: tuple(v[:1]) + tuple(sorted(str(x) for x in v[1:])) for k, v in out.items()}


def _seed(sessions: sessionmaker[Session], workspace: uuid.UUID, existing: list[int]) -> None:
    payloads = []
    for person in existing:
        first, last, domain, phone = PEOPLE[person]
        email = f"{first}.{last}".lower() + f"@{domain}"
        payloads.append({"first_name": first, "last_name": last, "email": email, "phone": phone})
    if payloads:
        with session_scope(sessions) as session:
            upsert_records(session, workspace, "contacts", payloads, "test")


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=FILES, existing=EXISTING)
def test_the_outcome_per_row_is_the_same_for_every_batch_size_and_process_count(
    sessions: sessionmaker[Session],
    make_tenant: Callable[[], Tenant],
    make_job: MakeJob,
    limits: ImportSettings,
    rows: list[tuple[int, int]],
    existing: list[int],
) -> None:
    text = _csv(rows)
    outcomes = {}
    for batch_size in (1, 7, 500, 5000):
        for from_mb in (1000.0, 0.0):  # in this process, then with the mapping process
            tenant = make_tenant()
            _seed(sessions, tenant.id, existing)
            job_id = make_job(tenant.id, text, COLUMNS, batch_size=batch_size)
            in_or_out = limits.model_copy(update={"mapping_process_from_mb": from_mb})
            assert run_import(sessions, job_id, limits=in_or_out) == "completed"
            outcomes[(batch_size, from_mb)] = _outcome(sessions, tenant.id, job_id)
    first = next(iter(outcomes.values()))
    assert len(first) == len(rows)
    for knobs, outcome in outcomes.items():
        assert outcome == first, knobs


@settings(max_examples=300, deadline=None)
@given(
    rows=FILES,
    existing=EXISTING,
    sizes=st.lists(st.integers(1, 12), min_size=1, max_size=6),
)
def test_the_guard_answers_the_same_however_the_file_is_cut(
    rows: list[tuple[int, int]], existing: list[int], sizes: list[int]
) -> None:
    """The same, many more files, on the guard alone: one row at a time against cuts."""
    keyed = []
    for n, (person, variant) in enumerate(rows):
        values = dict(zip(COLUMNS.values(), _row(n, person, variant), strict=True))
        keyed.append((f"row:{n}", {k: v for k, v in values.items() if v}))
    records = []
    for person in existing:
        first, last, domain, phone = PEOPLE[person]
        email = f"{first}.{last}".lower() + f"@{domain}"
        records.append(
            {"id": f"existing:{person}", "first_name": first, "last_name": last,
             "email": email, "phone": phone}
        )  # fmt: skip

    def run(cuts: list[int]) -> dict[str, tuple[str, str, float]]:
        guard = DuplicateGuard(DuplicateIndex.build(records))
        found: dict[str, tuple[str, str, float]] = {}
        at, n = 0, 0
        while at < len(keyed):
            size = cuts[n % len(cuts)]
            found |= guard.check_batch(keyed[at : at + size])
            at, n = at + size, n + 1
        return found

    one_by_one = run([1])
    assert run(sizes) == one_by_one
    assert run([len(keyed)]) == one_by_one


def test_possible_duplicates_are_imported_and_queued_for_review(
    sessions: sessionmaker[Session], tenant: Tenant, make_job: MakeJob, limits: ImportSettings
) -> None:
    text = (
        "ref,first,last,email,phone,company\n"
        "r0,Maria,Garcia,m.garcia@initech.example,2125550177,Initech\n"
        # her again, by her e-mail: a duplicate, skipped
        "r1,Maria,Garcia,M.Garcia@initech.example,,Initech\n"
        # likely her (a common name), with a personal e-mail: imported and queued
        "r2,Maria,Garcia,maria.garcia@gmail.com,3125550123,Initech\n"
    )
    job_id = make_job(tenant.id, text, COLUMNS, batch_size=2)
    assert run_import(sessions, job_id, limits=limits) == "completed"
    with sessions() as session:
        job = session.get(ImportJob, job_id)
        assert job is not None
        counts = (job.created, job.duplicates, job.possible_duplicates, job.failed)
        assert counts == (2, 1, 1, 0)
        refs = {
            c.id: c.external_ref
            for c in session.scalars(select(Contact).where(Contact.workspace_id == tenant.id))
        }
        (review,) = session.scalars(
            select(DuplicateReview).where(DuplicateReview.workspace_id == tenant.id)
        ).all()
        assert {refs[review.left_id], refs[review.right_id]} == {"r0", "r2"}
        assert review.status == "possible" and review.source == f"import:{job_id}"
        assert 0.5 <= review.score < 1.0
