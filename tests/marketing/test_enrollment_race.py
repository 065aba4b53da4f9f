"""Enrolments made at the same instant by several sessions (a person, a rule, a
redelivered event) are one enrolment, on each backend."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.marketing import enrollments
from crmsync.store.engine import session_scope
from crmsync.store.models import Contact, Enrollment, SyncJob
from crmsync.workspaces import create_workspace
from tests.marketing.helpers import add_journeys

RACERS = 4


def test_concurrent_enrolments_are_one(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        workspace = create_workspace(session, f"race-{uuid.uuid4().hex[:6]}")
        contact = Contact(workspace_id=workspace.id, last_name="Racer")
        session.add(contact)
        session.flush()
        workspace_id, contact_id = workspace.id, contact.id
    journey = add_journeys(sessions, workspace_id, [{"name": "Nurture"}], status="connected")[
        "Nurture"
    ]
    start = threading.Barrier(RACERS)
    created: list[bool] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            start.wait()
            with session_scope(sessions) as session:
                _e, made = enrollments.enroll(session, workspace_id, contact_id, journey)
            created.append(made)
        except BaseException as error:  # reported below, with the thread's own error
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert sorted(created) == [False] * (RACERS - 1) + [True]
    with sessions() as session:
        rows = session.scalar(
            select(func.count()).select_from(Enrollment).where(Enrollment.contact_id == contact_id)
        )
        jobs = session.scalar(
            select(func.count())
            .select_from(SyncJob)
            .where(SyncJob.object_type == "enrollments", SyncJob.workspace_id == workspace_id)
        )
    assert rows == 1 and jobs == 1
