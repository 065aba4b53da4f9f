"""The web app's server time per page at size.

    python bench/web.py            # full: 100,000 contacts, 1,000,000 activities, 10 integrations
    python bench/web.py --quick    # CI: 5,000 contacts, 50,000 activities, 10 integrations
    python bench/web.py --backend postgresql
    python bench/web.py --database sqlite:////tmp/web.db   # keep the data: made once, reused
    python bench/web.py --database sqlite:////tmp/web.db --pages attribution   # some pages
    python bench/web.py --database sqlite:////tmp/web.db --touchpoints 200000   # and touches

One workspace on one database (SQLite by default, a temporary file) holds the contacts,
their activities, deals and leads (one per five contacts each, spread over stages and
owners), 10 integrations with links, sync runs, API quotas, dead letters and open conflicts. An
admin signs in through the form; then every page is asked ``--repeat`` times through
the ASGI app in process (no socket: the figure is the server's time). Reported per page:
p50 and p95 wall time, and p95 of the process CPU time per request (steadier than wall
time on a shared machine). Target: p95 < 100 ms for every page at full size.

``--touchpoints N`` adds marketing touchpoints (up to N in all, on random contacts over
the last 180 days, six channels, five campaigns) to a kept or new database: the issue's
size has none, and the attribution page's cost grows with them.

Generating the data is not timed. Exits non-zero only when a page fails, never for a
missed target.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

from crmsync.api.app import create_app, freeze_heap
from crmsync.auth.users import create_user
from crmsync.config import Settings
from crmsync.logging import configure
from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from crmsync.store.models import (
    Activity,
    ApiQuota,
    Campaign,
    Conflict,
    Contact,
    Deal,
    Integration,
    Lead,
    Link,
    SyncJob,
    SyncRun,
    Touchpoint,
    Workspace,
)
from crmsync.workspaces import create_workspace

TARGET_MS = 100.0
PASSWORD = "bench-password-1"  # noqa: S105 (the bench's own throwaway user)
ADMIN = "admin@bench.example"
STAGES = ("appointment", "qualified", "application", "underwriting", "closing", "won", "lost")
STATUSES = ("NEW", "CONTACTED", "QUALIFIED", "CONVERTED", "LOST")
TYPES = ("email", "message", "push_notification", "sms", "call", "meeting", "rate_alert")
NOW = datetime(2026, 12, 1, tzinfo=UTC)
CHUNK = 20_000
CHANNELS = ("social", "paid_search", "email", "display", "referral", "organic")
PLATFORMS = (None, "linkedin", "google", "facebook")


@dataclass(frozen=True)
class Sizes:
    contacts: int
    activities: int
    integrations: int = 10


FULL = Sizes(100_000, 1_000_000)
QUICK = Sizes(5_000, 50_000)


def _database(backend: str, workdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{workdir}/web.db"
    url = os.environ.get("CRMSYNC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1/test")
    schema = f"bench_web_{uuid.uuid4().hex[:8]}"
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as c:
        c.execute(f'CREATE SCHEMA "{schema}"')
    return f"{url}?options=-csearch_path%3D{schema}"


def _chunks(rows: list[dict[str, object]], session: Session, model: type) -> None:
    if session.get_bind().dialect.name == "postgresql":
        _copy(rows, session, model)
        return
    for start in range(0, len(rows), CHUNK):
        session.execute(insert(model), rows[start : start + CHUNK])
    session.commit()


def _copy(rows: list[dict[str, object]], session: Session, model: type) -> None:
    """PostgreSQL: the rows through COPY (inserts of a million rows take most of an hour
    on a busy machine), with the columns' Python-side defaults filled in as an insert
    would fill them."""
    from psycopg.types.json import Jsonb

    table = model.__table__  # type: ignore[attr-defined]
    given = list(rows[0]) if rows else []
    defaults = {
        c.name: c.default for c in table.columns if c.name not in given and c.default is not None
    }
    names = given + list(defaults)
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSON)}

    def value(name: str, raw: object) -> object:
        return Jsonb(raw) if name in json_columns and raw is not None else raw

    raw_connection = session.connection().connection.dbapi_connection
    assert raw_connection is not None
    with raw_connection.cursor() as cursor:  # type: ignore[attr-defined]
        columns = ", ".join(f'"{n}"' for n in names)
        with cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for row in rows:
                extra = [
                    d.arg(None) if d.is_callable else d.arg  # type: ignore[attr-defined]
                    for d in defaults.values()
                ]
                full = [row[n] for n in given] + extra
                copy.write_row([value(n, v) for n, v in zip(names, full, strict=True)])
    session.commit()
    # statistics before the next table's foreign keys are checked against this one (a
    # check planned on an empty-looking table scans it once per row)
    session.execute(text(f"ANALYZE {table.name}"))
    session.commit()


def _populate(sessions: sessionmaker[Session], sizes: Sizes, rng: random.Random) -> uuid.UUID:
    with sessions() as session:
        workspace = create_workspace(session, "bench web")
        create_user(session, workspace.id, ADMIN, "Bench admin", "admin", PASSWORD)
        session.commit()
        ws = workspace.id
        owners = [f"lo{n}@bench.example" for n in range(20)] + [ADMIN]
        ids = [uuid.uuid4() for _ in range(sizes.contacts)]
        _chunks(
            [
                {
                    "id": i, "workspace_id": ws, "first_name": f"First{n}", "last_name": f"Last{n}",
                    "email": f"person{n}@example.com", "owner": rng.choice(owners),
                    "engagement_score": rng.random() * 100 if n % 4 else None,
                    "updated_at": NOW - timedelta(seconds=n),
                    "created_at": NOW - timedelta(days=30, seconds=n),
                }
                for n, i in enumerate(ids)
            ],
            session, Contact,
        )  # fmt: skip
        for start in range(0, sizes.activities, 100_000):
            count = min(100_000, sizes.activities - start)
            _chunks(
                [
                    {
                        "workspace_id": ws, "type": rng.choice(TYPES), "direction": "outbound",
                        "occurred_at": NOW - timedelta(seconds=rng.randrange(180 * 86_400)),
                        "contact_id": ids[rng.randrange(len(ids))], "data": {},
                    }
                    for _ in range(count)
                ],
                session, Activity,
            )  # fmt: skip
        fifth = ids[: max(1, len(ids) // 5)]
        _chunks(
            [
                {
                    "workspace_id": ws, "name": f"Loan {n}", "pipeline": "mortgage",
                    "stage": rng.choice(STAGES), "amount": 250_000 + n, "currency": "USD",
                    "contact_id": c, "owner": rng.choice(owners),
                    "updated_at": NOW - timedelta(seconds=n),
                }
                for n, c in enumerate(fifth)
            ],
            session, Deal,
        )  # fmt: skip
        _chunks(
            [
                {
                    "workspace_id": ws, "status": rng.choice(STATUSES),
                    "email": f"lead{n}@x.example", "last_name": f"Lead{n}", "contact_id": c,
                    "assigned_agent": rng.choice(owners),
                    "updated_at": NOW - timedelta(seconds=n),
                }
                for n, c in enumerate(fifth)
            ],
            session, Lead,
        )  # fmt: skip
        integrations = [uuid.uuid4() for _ in range(sizes.integrations)]
        _chunks(
            [
                {
                    "id": i, "workspace_id": ws, "provider": "hubspot", "name": f"CRM {n}",
                    "status": "connected", "config": {"objects": {"contacts": "both"}},
                }
                for n, i in enumerate(integrations)
            ],
            session, Integration,
        )  # fmt: skip
        _chunks(
            [
                {
                    "workspace_id": ws, "integration_id": integrations[n % len(integrations)],
                    "object_type": "contacts", "record_id": c, "remote_id": str(n),
                }
                for n, c in enumerate(ids)
            ],
            session, Link,
        )  # fmt: skip
        _chunks(
            [
                {
                    "workspace_id": ws, "integration_id": i, "kind": "incremental",
                    "direction": "inbound", "object_type": "contacts", "status": "succeeded",
                    "processed": 100, "succeeded": 100,
                    "started_at": NOW - timedelta(minutes=m), "finished_at": NOW,
                }
                for i in integrations for m in range(200)
            ],
            session, SyncRun,
        )  # fmt: skip
        _chunks(
            [
                {
                    "workspace_id": ws, "integration_id": integrations[n % len(integrations)],
                    "object_type": "contacts", "record_id": ids[n], "operation": "upsert",
                    "status": "dead" if n % 10 == 0 else "succeeded", "attempts": 5,
                    "last_error": "400: invalid property", "error_class": "InvalidRecord",
                }
                for n in range(min(len(ids), 5_000))
            ],
            session, SyncJob,
        )  # fmt: skip
        _chunks(
            [
                {
                    "integration_id": i, "name": name, "used": used, "limit": limit,
                    "observed_at": NOW,
                }
                for i in integrations
                for name, used, limit in (("daily", 180_000, 250_000), ("burst", 40, 100))
            ],
            session, ApiQuota,
        )  # fmt: skip
        _chunks(
            [
                {
                    "workspace_id": ws, "integration_id": integrations[n % len(integrations)],
                    "record_type": "contacts", "record_id": ids[n], "field": "city",
                    "local_value": "Seattle", "remote_value": "Tacoma", "status": "open",
                    "local_at": NOW, "remote_at": NOW,
                }
                for n in range(min(len(ids), 300))
            ],
            session, Conflict,
        )  # fmt: skip
        return ws


def _touchpoints(
    sessions: sessionmaker[Session], workspace_id: uuid.UUID, wanted: int, rng: random.Random
) -> int:
    """Touchpoints up to ``wanted`` in the workspace; how many there are."""
    with sessions() as session:
        have = (
            session.scalar(select(func.count()).where(Touchpoint.workspace_id == workspace_id)) or 0
        )
        if have >= wanted:
            return have
        campaigns = list(
            session.scalars(select(Campaign.id).where(Campaign.workspace_id == workspace_id))
        )
        if not campaigns:
            campaigns = [uuid.uuid4() for _ in range(5)]
            _chunks(
                [
                    {"id": c, "workspace_id": workspace_id, "name": f"Campaign {n}"}
                    for n, c in enumerate(campaigns)
                ],
                session, Campaign,
            )  # fmt: skip
        contacts = list(
            session.scalars(select(Contact.id).where(Contact.workspace_id == workspace_id))
        )
        for start in range(have, wanted, 100_000):
            _chunks(
                [
                    {
                        "workspace_id": workspace_id, "contact_id": rng.choice(contacts),
                        "occurred_at": NOW - timedelta(seconds=rng.randrange(180 * 86_400)),
                        "channel": rng.choice(CHANNELS), "platform": rng.choice(PLATFORMS),
                        "campaign_id": rng.choice([None, *campaigns]),
                    }
                    for _ in range(min(100_000, wanted - start))
                ],
                session, Touchpoint,
            )  # fmt: skip
        return wanted


def _kept(sessions: sessionmaker[Session]) -> uuid.UUID | None:
    """The workspace an earlier run of ``--database`` filled, if any."""
    with sessions() as session:
        return session.scalar(select(Workspace.id).where(Workspace.name == "bench web"))


def _pages(sessions: sessionmaker[Session], workspace_id: uuid.UUID) -> list[str]:
    with sessions() as session:
        contact = session.query(Contact.id).filter_by(workspace_id=workspace_id).first()
        integration = session.query(Integration.id).filter_by(workspace_id=workspace_id).first()
    assert contact and integration
    return [
        "/ui/",
        "/ui/?owner=mine&pipeline=mortgage",
        "/ui/contacts",
        "/ui/contacts?q=person42",
        f"/ui/contacts/{contact[0]}",
        "/ui/journeys",
        "/ui/imports",
        "/ui/integrations",
        f"/ui/integrations/{integration[0]}",
        f"/ui/integrations/{integration[0]}/mapping",
        "/ui/integrations/new?provider_name=hubspot",
        "/ui/sync",
        "/ui/sync/dead-letters",
        "/ui/sync/conflicts",
        "/ui/duplicates",
        "/ui/automation",
        "/ui/alerts",
        "/ui/attribution",
        "/ui/attribution?conversion=deal_won&model=markov&group_by=channel",
        "/ui/attribution?conversion=lead_converted&model=time_decay&group_by=platform",
        "/ui/people",
    ]


def _sign_in(client: TestClient) -> None:
    form = client.get("/ui/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    answer = client.post(
        "/ui/sign-in",
        data={"email": ADMIN, "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=None, help="requests per page")
    parser.add_argument(
        "--database",
        help="a database URL to keep the data in: filled on the first run, reused after",
    )
    parser.add_argument(
        "--touchpoints", type=int, default=0, help="touchpoints in all (added to a kept db)"
    )
    parser.add_argument(
        "--pages",
        nargs="+",
        metavar="TEXT",
        help="only the pages whose path contains one of these (e.g. attribution contacts)",
    )
    args = parser.parse_args()
    configure("WARNING", json=False)  # no line per request
    sizes = QUICK if args.quick else FULL
    repeat = args.repeat or (5 if args.quick else 30)
    rng = random.Random(24)
    with tempfile.TemporaryDirectory() as workdir:
        url = args.database or _database(args.backend, workdir)
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        started = time.perf_counter()
        workspace_id = _kept(sessions) or _populate(sessions, sizes, rng)
        touchpoints = _touchpoints(sessions, workspace_id, args.touchpoints, rng)
        print(
            f"data: {sizes.contacts:,} contacts, {sizes.activities:,} activities, "
            f"{sizes.integrations} integrations, {touchpoints:,} touchpoints on "
            f"{engine.dialect.name} "
            f"({time.perf_counter() - started:.0f} s to make, not timed below)"
        )
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores")
        if engine.dialect.name == "sqlite":  # the write-ahead log of the data made, not timed
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # what autovacuum does to freshly loaded tables, before pages read them
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        app = create_app(Settings(database_url=url, mode="test", data_dir=Path(workdir)), engine)
        freeze_heap()  # as `crmsync serve` does once the app is made
        failed = 0
        print(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'p95 CPU ms':>11}  target")
        with TestClient(app) as client:
            _sign_in(client)
            print(f"load average (1, 5, 15 min) before: {os.getloadavg()}")
            pages = _pages(sessions, workspace_id)
            if args.pages:
                pages = [p for p in pages if any(part in p for part in args.pages)]
            for path in pages:
                client.get(path)  # first call: caches, compiled templates
                wall: list[float] = []
                cpu: list[float] = []
                status = 200
                for _ in range(repeat):
                    w, c = time.perf_counter(), time.process_time()
                    answer = client.get(path)
                    cpu.append((time.process_time() - c) * 1000)
                    wall.append((time.perf_counter() - w) * 1000)
                    status = answer.status_code
                if status != 200:
                    failed += 1
                p95 = _p(wall, 0.95)
                verdict = "met" if p95 < TARGET_MS else "MISSED"
                if status != 200:
                    verdict += f" (HTTP {status})"
                shown = re.sub(r"[0-9a-f-]{36}", "{id}", path)
                print(
                    f"{shown:<48} {statistics.median(wall):8.1f} {p95:8.1f} "
                    f"{_p(cpu, 0.95):11.1f}  {verdict}"
                )
            print(f"load average (1, 5, 15 min) after: {os.getloadavg()}")
        engine.dispose()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
