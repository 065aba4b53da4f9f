"""The sync health page: per integration and object type (lag, errors), the API quota per
window, the workspace's sync volume and errors per day; a fixed number of statements
however many integrations and records there are."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from crmsync.auth.permissions import Role
from crmsync.records.service import create_record
from crmsync.store.engine import session_scope
from crmsync.store.models import (
    ApiQuota,
    Deal,
    Integration,
    Lead,
    SyncJob,
    SyncObjectState,
    SyncRun,
)
from crmsync.sync import health
from crmsync.workspaces import create_workspace
from tests.conftest import TestClient
from tests.web.conftest import People


def _integration(session: Session, workspace_id: uuid.UUID, provider: str, name: str) -> uuid.UUID:
    row = Integration(
        workspace_id=workspace_id,
        provider=provider,
        name=name,
        status="connected",
        config={"objects": {"contacts": "both", "deals": "outbound"}},
    )
    session.add(row)
    session.flush()
    return row.id


def _run(
    session: Session,
    workspace_id: uuid.UUID,
    integration_id: uuid.UUID,
    at: datetime,
    processed: int,
    failed: int,
    status: str = "partial",
) -> None:
    session.add(
        SyncRun(
            workspace_id=workspace_id, integration_id=integration_id, kind="incremental",
            direction="outbound", object_type="contacts", status=status, processed=processed,
            succeeded=processed - failed, failed=failed, started_at=at, finished_at=at,
        )
    )  # fmt: skip


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_c: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_lag_errors_and_quota_per_integration_and_object_type(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        hub = _integration(session, people.workspace_id, "hubspot", "Hub quota")
        sf = _integration(session, people.workspace_id, "salesforce", "SF quota")
        _run(session, people.workspace_id, hub, now - timedelta(hours=1), 50, 5)
        session.add(
            SyncJob(
                workspace_id=people.workspace_id, integration_id=hub, object_type="contacts",
                record_id=uuid.uuid4(), operation="upsert", enqueued_at=now - timedelta(minutes=30),
            )
        )  # fmt: skip
        session.add(
            SyncObjectState(
                workspace_id=people.workspace_id, integration_id=sf, object_type="deals",
                status="failing", last_error="401 Session expired", last_error_class="AuthError",
                backoff_until=now + timedelta(minutes=10),
            )
        )  # fmt: skip
        session.add_all(
            [
                ApiQuota(integration_id=hub, name="daily", used=240_000, limit=250_000,
                         observed_at=now - timedelta(hours=2)),
                ApiQuota(integration_id=hub, name="burst", used=30, limit=100,
                         observed_at=now - timedelta(minutes=5)),
                ApiQuota(integration_id=sf, name="daily", used=18, limit=5000, observed_at=now),
            ]
        )  # fmt: skip
    for role in (Role.VIEWER, Role.ADMIN):  # integrations:read: the viewer sees it too
        page = html.unescape(signed_in(role).get("/ui/sync").text)
        by_type = page.split("<h2>By object type</h2>", 1)[1].split("<h2>API quota</h2>", 1)[0]
        rows = {r.split("</tr>")[0] for r in by_type.split("<tr>")[2:]}
        hub_contacts = next(r for r in rows if "Hub quota" in r and ">contacts<" in r)
        assert ">1<" in hub_contacts  # queued
        assert "30 min" in hub_contacts  # the lag: the oldest waiting job
        assert ">50<" in hub_contacts and "(10.0 %)" in hub_contacts  # processed, failed share
        sf_deals = next(r for r in rows if "SF quota" in r and ">deals<" in r)
        assert "failing" in sf_deals and "AuthError: 401 Session expired" in sf_deals
        assert "until" in sf_deals  # its back-off
        quota = page.split("<h2>API quota</h2>", 1)[1]
        lines = [r.split("</tr>")[0] for r in quota.split("<tr>")[2:]]
        daily = next(r for r in lines if "Hub quota" in r and ">daily<" in r)
        assert ">240000<" in daily and ">250000<" in daily
        assert "Hub quota daily quota: 96% used" in daily  # the SVG bar's label
        assert "daily, resets at midnight (the HubSpot account's time zone)" in daily
        burst = next(r for r in lines if "Hub quota" in r and ">burst<" in r)
        assert "rolling 10 s" in burst and "reset since" in burst  # 10 s after 5 minutes ago
        sf_daily = next(r for r in lines if "SF quota" in r)
        assert "rolling 24 h" in sf_daily and "0% used" in sf_daily
        tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
        assert f"{tomorrow} 00:00" in daily or f"{now:%Y-%m-%d} 00:00" in daily


def test_workspace_volume_sums_every_integration_and_only_this_workspace(
    signed_in: Callable[[Role], TestClient], people: People, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    day = (now - timedelta(days=3)).replace(hour=12)
    with session_scope(sessions) as session:
        a = _integration(session, people.workspace_id, "hubspot", "Vol A")
        b = _integration(session, people.workspace_id, "pipedrive", "Vol B")
        _run(session, people.workspace_id, a, day, 1000, 10)
        _run(session, people.workspace_id, b, day + timedelta(hours=1), 234, 0)
        # a run that failed as a whole failed all it processed
        _run(session, people.workspace_id, b, day + timedelta(hours=2), 7, 0, status="failed")
        _run(session, people.workspace_id, a, now - timedelta(days=20), 999, 9)  # too old
        other = create_workspace(session, f"other {uuid.uuid4().hex[:6]}")
        theirs = _integration(session, other.id, "hubspot", "Theirs")
        _run(session, other.id, theirs, day, 5000, 500)
    page = html.unescape(signed_in(Role.ADMIN).get("/ui/sync").text)
    label = page.split("Records processed and failed per day: ", 1)[1].split('"', 1)[0]
    assert f"{day:%m-%d}: 1241 processed, 17 failed" in label
    assert f"{day - timedelta(days=1):%m-%d}: 0 processed, 0 failed" in label
    assert label.count("processed") == 14  # one per day of the last 14


def test_statements_do_not_grow_with_integrations_or_records(
    signed_in: Callable[[Role], TestClient],
    people: People,
    sessions: sessionmaker[Session],
    engine: Engine,
) -> None:
    client = signed_in(Role.ADMIN)

    def count(path: str) -> int:
        client.get(path)  # the first call may fill caches
        with _statements(engine) as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    before = {path: count(path) for path in ("/ui/sync", "/ui/")}
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        for n in range(3):
            crm = _integration(session, people.workspace_id, "hubspot", f"More {n}")
            _run(session, people.workspace_id, crm, now, 10, 1)
            session.add(ApiQuota(integration_id=crm, name="daily", used=n, limit=10))
        for n in range(5):
            contact = create_record(
                session, people.workspace_id, "contacts", {"last_name": f"N{n}"}, "api"
            )
            contact.engagement_score = 20.0 * n
            session.add(
                Deal(workspace_id=people.workspace_id, name=f"D{n}", stage=f"s{n}",
                     contact_id=contact.id)
            )  # fmt: skip
            session.add(
                Lead(workspace_id=people.workspace_id, status=f"S{n}", contact_id=contact.id)
            )
    after = {path: count(path) for path in ("/ui/sync", "/ui/")}
    assert after == before


def test_reports_of_many_integrations_match_each_alone(
    people: People, sessions: sessionmaker[Session]
) -> None:
    now = datetime.now(UTC)
    with session_scope(sessions) as session:
        ids = [_integration(session, people.workspace_id, "hubspot", f"R{n}") for n in range(3)]
        _run(session, people.workspace_id, ids[0], now - timedelta(hours=1), 10, 2)
        _run(session, people.workspace_id, ids[2], now - timedelta(hours=2), 5, 5, "failed")
        session.add(
            SyncJob(
                workspace_id=people.workspace_id, integration_id=ids[2], object_type="deals",
                record_id=uuid.uuid4(), operation="upsert", status="dead", last_error="x",
                error_class="InvalidRecord",
            )
        )  # fmt: skip
        session.add(ApiQuota(integration_id=ids[1], name="burst", used=3, limit=100))
    with session_scope(sessions) as session:
        rows = [session.get(Integration, i) for i in ids]
        assert all(rows)
        integrations = [r for r in rows if r is not None]
        together = [h.as_json() for h in health.reports(session, integrations, now)]
        alone = [health.report(session, i, now).as_json() for i in integrations]
    assert together == alone
    assert together[2]["dead_letters"] == 1 and together[1]["quota"][0]["used"] == 3
