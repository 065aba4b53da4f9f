"""In the store: scores updated one activity at a time equal a bulk recompute from the
same activities (SQL aggregate), and the recompute is idempotent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crmsync.marketing import engagement_service
from crmsync.marketing.settings import EngagementModel
from crmsync.store.engine import session_scope
from crmsync.store.models import Activity, Contact, EngagementState
from crmsync.workspaces import create_workspace

MODEL = EngagementModel()
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
activity = st.tuples(
    st.integers(min_value=0, max_value=2),  # which contact
    st.sampled_from(["call", "email", "meeting", "sms", "push_notification"]),
    st.sampled_from([None, "email", "push"]),
    st.sampled_from([None, "inbound", "outbound"]),
    st.integers(min_value=0, max_value=60 * 86_400),  # age in seconds
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(activity, min_size=1, max_size=25))
def test_incremental_and_bulk_agree(
    sessions: sessionmaker[Session], items: list[tuple[int, str, str | None, str | None, int]]
) -> None:
    with session_scope(sessions) as session:
        workspace = create_workspace(session, f"eng-{uuid.uuid4().hex[:6]}")
        contacts = [Contact(workspace_id=workspace.id, last_name=f"C{n}") for n in range(3)]
        session.add_all(contacts)
        session.flush()
        for n, kind, channel, direction, age in items:
            at = NOW - timedelta(seconds=age)
            session.add(
                Activity(
                    workspace_id=workspace.id, type=kind, direction=direction, occurred_at=at,
                    data={"channel": channel} if channel else {}, contact_id=contacts[n].id,
                )
            )  # fmt: skip
            engagement_service.apply_activity(
                session, workspace.id, contacts[n].id, kind, at,
                channel=channel, direction=direction, model=MODEL, now=NOW,
            )  # fmt: skip
        session.flush()
        incremental = _scores(session, workspace.id)
        engagement_service.recompute(session, workspace.id, now=NOW, model=MODEL)
        bulk = _scores(session, workspace.id)
        assert engagement_service.recompute(session, workspace.id, now=NOW, model=MODEL) == 0
    assert incremental.keys() == bulk.keys()
    for contact_id, value in incremental.items():
        assert abs(value - bulk[contact_id]) <= 0.011, (contact_id, value, bulk[contact_id])


def _scores(session: Session, workspace_id: uuid.UUID) -> dict[uuid.UUID, float]:
    session.expire_all()
    rows = session.execute(
        select(EngagementState.contact_id, EngagementState.score).where(
            EngagementState.workspace_id == workspace_id
        )
    )
    return {cid: float(score) for cid, score in rows}
