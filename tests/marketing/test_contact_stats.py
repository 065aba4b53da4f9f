"""Contact statistics from range counts over an index: the same figures as counting each
contact in Python, whatever the scores (none, out of range, on a bucket's edge), the
deleted contacts and the creation dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert
from sqlalchemy.orm import Session

from crmsync.marketing.stats import BUCKETS, contact_stats
from crmsync.store.models import Contact
from crmsync.workspaces import create_workspace

NOW = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)
EDGES = [0.0, 19.999, 20.0, 40.0, 60.0, 79.5, 80.0, 100.0, 100.9, 101.0]
SCORES = st.one_of(
    st.none(),
    st.sampled_from(EDGES),
    st.floats(min_value=-5, max_value=110, allow_nan=False),
)
CONTACTS = st.lists(
    st.tuples(SCORES, st.booleans(), st.integers(min_value=0, max_value=40)),  # deleted, days old
    max_size=40,
)


def _expected(contacts: list[tuple[float | None, bool, int]]) -> dict[str, object]:
    alive = [(score, age) for score, deleted, age in contacts if not deleted]
    month = NOW.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    scores = [s for s, _ in alive if s is not None]
    return {
        "total": len(alive),
        "new_this_month": sum(1 for _, age in alive if NOW - timedelta(days=age) >= month),
        "engagement": {
            "average": round(sum(scores) / len(scores), 2) if scores else None,
            "unscored": len(alive) - len(scores),
            "buckets": [
                {
                    "from": low,
                    "to": min(high, 100),
                    "contacts": sum(low <= s < high for s in scores),
                }
                for low, high in BUCKETS
            ],
        },
    }


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contacts=CONTACTS)
def test_stats_match_counting_each_contact(
    db: Session, contacts: list[tuple[float | None, bool, int]]
) -> None:
    workspace = create_workspace(db, "stats")
    other = create_workspace(db, "other")
    rows = [
        {
            "workspace_id": workspace.id,
            "engagement_score": score,
            "deleted_at": NOW if deleted else None,
            "created_at": NOW - timedelta(days=age),
        }
        for score, deleted, age in contacts
    ]
    rows.append({"workspace_id": other.id, "engagement_score": 50.0, "created_at": NOW})
    db.execute(insert(Contact), rows)
    db.flush()
    try:
        found = contact_stats(db, workspace.id, now=NOW)
        expected = _expected(contacts)
        engagement, wanted = found["engagement"], expected["engagement"]
        assert isinstance(engagement, dict) and isinstance(wanted, dict)
        if wanted["average"] is not None:  # summed in another order: the last digit may differ
            assert abs(engagement.pop("average") - wanted.pop("average")) <= 0.011
        assert found == expected
    finally:
        db.rollback()
