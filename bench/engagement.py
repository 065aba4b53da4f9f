"""Engagement scores: bulk scoring, one incremental update, and a naive baseline.

    python bench/engagement.py            # full: 1,000,000 activities over 100,000 contacts
    python bench/engagement.py --quick    # CI: 100,000 activities over 10,000 contacts (< 60 s)
    python bench/engagement.py --backend postgresql

Measures, on one database (SQLite by default, a temporary file):

- **bulk**: ``engagement_service.recompute`` of the whole workspace (one aggregate query,
  one insert of the states, one update of the contacts), with its commit. Target on
  SQLite at full size: <= 15 s.
- **incremental**: ``engagement_service.apply_activity`` after one new activity of a
  random contact, timed with and without its commit, over ``--updates`` calls. Target:
  p99 <= 5 ms.
- **naive baseline**, same run: per contact, read its activities, score them in Python,
  write the score -- on a sample of contacts, extrapolated to all of them (the full
  naive pass would take minutes).

Generating the activities is not timed. Exits non-zero only when something fails, never
for a missed target.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crmsync.marketing import engagement_service
from crmsync.marketing.engagement import State, points, score
from crmsync.marketing.settings import EngagementModel
from crmsync.store.engine import make_engine, make_sessionmaker
from crmsync.store.migrate import upgrade
from crmsync.store.models import Activity, Contact, EngagementState
from crmsync.workspaces import create_workspace

BULK_TARGET_S = 15.0
P99_TARGET_MS = 5.0
TYPES = (
    ("email", 0.35), ("message", 0.2), ("push_notification", 0.15), ("sms", 0.1),
    ("call", 0.08), ("rate_alert", 0.05), ("meeting", 0.03), ("milestone_update", 0.03),
    ("pos_application_submitted", 0.01),
)  # fmt: skip
CHANNELS = (None, "email", "sms", "push", "in_app")
DIRECTIONS = ("inbound", "outbound")
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Sizes:
    contacts: int
    activities: int
    updates: int
    naive_sample: int


FULL = Sizes(100_000, 1_000_000, 2_000, 2_000)
QUICK = Sizes(10_000, 100_000, 500, 500)


def _database(backend: str, workdir: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{Path(workdir) / 'engagement.db'}"
    url = os.environ.get(
        "CRMSYNC_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    return url


def _populate(
    sessions: sessionmaker[Session], sizes: Sizes, rng: random.Random
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    with sessions() as session:
        workspace = create_workspace(session, f"bench-{uuid.uuid4().hex[:6]}")
        session.commit()
        ids = [uuid.uuid4() for _ in range(sizes.contacts)]
        for start in range(0, len(ids), 20_000):
            session.execute(
                insert(Contact),
                [
                    {"id": i, "workspace_id": workspace.id, "last_name": "B"}
                    for i in ids[start : start + 20_000]
                ],
            )
        session.commit()
        if session.get_bind().dialect.name == "sqlite":
            _activities_sqlite(session, workspace.id, ids, sizes, rng)
        else:
            _activities_orm(session, workspace.id, ids, sizes, rng)
        return workspace.id, ids


def _activities(ids: list[uuid.UUID], count: int, rng: random.Random) -> list[tuple]:  # type: ignore[type-arg]
    """(type, direction, occurred_at, channel, contact) for ``count`` activities."""
    kinds, weights = zip(*TYPES, strict=True)
    picked = rng.choices(kinds, weights, k=count)
    span = 180 * 86_400
    return [
        (
            picked[n],
            rng.choice(DIRECTIONS),
            NOW - timedelta(seconds=rng.randrange(span)),
            rng.choice(CHANNELS),
            ids[rng.randrange(len(ids))],
        )
        for n in range(count)
    ]


def _activities_orm(
    session: Session,
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    sizes: Sizes,
    rng: random.Random,
) -> None:
    for start in range(0, sizes.activities, 50_000):
        rows = _activities(ids, min(50_000, sizes.activities - start), rng)
        session.execute(
            insert(Activity),
            [
                {
                    "workspace_id": workspace_id, "type": kind, "direction": direction,
                    "occurred_at": at, "data": {"channel": channel} if channel else {},
                    "contact_id": contact,
                }
                for kind, direction, at, channel, contact in rows
            ],
        )  # fmt: skip
        session.commit()


def _activities_sqlite(
    session: Session,
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    sizes: Sizes,
    rng: random.Random,
) -> None:
    """The same rows written with the driver (stored as crmsync's types store them:
    hex UUIDs, naive UTC text times, JSON text): generation is not what is measured."""
    raw = session.connection().connection.driver_connection
    stamp = NOW.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    sql = (
        "INSERT INTO activities (id, workspace_id, created_at, updated_at, version, custom_fields,"
        " type, direction, occurred_at, data, contact_id) VALUES (?,?,?,?,1,'{}',?,?,?,?,?)"
    )
    for start in range(0, sizes.activities, 100_000):
        rows = _activities(ids, min(100_000, sizes.activities - start), rng)
        raw.executemany(  # type: ignore[union-attr]
            sql,
            [
                (
                    uuid.uuid4().hex, workspace_id.hex, stamp, stamp, kind, direction,
                    at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"),
                    f'{{"channel": "{channel}"}}' if channel else "{}", contact.hex,
                )
                for kind, direction, at, channel, contact in rows
            ],
        )  # fmt: skip
    session.commit()


def _bulk(
    sessions: sessionmaker[Session], workspace_id: uuid.UUID, model: EngagementModel
) -> tuple[float, int]:
    with sessions() as session:
        started = time.perf_counter()
        changed = engagement_service.recompute(session, workspace_id, now=NOW, model=model)
        session.commit()
        return time.perf_counter() - started, changed


def _incremental(
    sessions: sessionmaker[Session],
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    model: EngagementModel,
    updates: int,
    rng: random.Random,
) -> tuple[list[float], list[float]]:
    without, with_commit = [], []
    with sessions() as session:
        for n in range(updates):
            contact = ids[rng.randrange(len(ids))]
            at = NOW + timedelta(seconds=n)
            started = time.perf_counter()
            engagement_service.apply_activity(
                session, workspace_id, contact, "message", at, channel="in_app",
                direction="inbound", model=model, now=at,
            )  # fmt: skip
            session.flush()
            middle = time.perf_counter()
            session.commit()
            ended = time.perf_counter()
            without.append((middle - started) * 1000)
            with_commit.append((ended - started) * 1000)
    return without, with_commit


def _naive(
    sessions: sessionmaker[Session],
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    model: EngagementModel,
    sample: int,
) -> float:
    """Per contact: read its activities, add them up in Python, write the score."""
    chosen = ids[:sample]
    with sessions() as session:
        started = time.perf_counter()
        for contact in chosen:
            rows = session.execute(
                select(
                    Activity.type, Activity.occurred_at, Activity.data, Activity.direction
                ).where(Activity.workspace_id == workspace_id, Activity.contact_id == contact)
            )
            state = State(NOW)
            for kind, at, data, direction in rows:
                state = state.add(
                    model, kind, at, points(model, kind, (data or {}).get("channel"), direction)
                )
            session.execute(
                update(Contact)
                .where(Contact.id == contact)
                .values(engagement_score=score(model, state))
            )
        session.commit()
        return time.perf_counter() - started


def _check(
    sessions: sessionmaker[Session],
    workspace_id: uuid.UUID,
    ids: list[uuid.UUID],
    model: EngagementModel,
) -> float:
    """The largest gap between the bulk scores and the naive ones on a few contacts."""
    gap = 0.0
    with sessions() as session:
        for contact in ids[:200]:
            stored = session.scalar(
                select(EngagementState.score).where(EngagementState.contact_id == contact)
            )
            naive = session.scalar(select(Contact.engagement_score).where(Contact.id == contact))
            gap = max(gap, abs(float(stored or 0.0) - float(naive or 0.0)))
    return gap


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="CI size")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=25)
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    rng = random.Random(args.seed)
    model = EngagementModel()
    with tempfile.TemporaryDirectory() as workdir:
        url = _database(args.backend, workdir)
        upgrade(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        began = time.perf_counter()
        workspace_id, ids = _populate(sessions, sizes, rng)
        took = time.perf_counter() - began
        print(
            f"generated {sizes.activities:,} activities, {sizes.contacts:,} contacts: {took:.1f} s"
        )
        bulk_s, changed = _bulk(sessions, workspace_id, model)
        naive_s = _naive(sessions, workspace_id, ids, model, sizes.naive_sample)
        gap = _check(sessions, workspace_id, ids[: sizes.naive_sample], model)
        without, with_commit = _incremental(sessions, workspace_id, ids, model, sizes.updates, rng)
        engine.dispose()
    naive_all = naive_s / sizes.naive_sample * sizes.contacts
    machine = f"Python {platform.python_version()}, {os.cpu_count()} cores"
    print(f"backend {args.backend}, {machine}, load {os.getloadavg()[0]:.1f}")
    print(
        f"bulk recompute: {bulk_s:.2f} s for {sizes.activities:,} activities / "
        f"{sizes.contacts:,} contacts ({sizes.activities / bulk_s:,.0f} activities/s; "
        f"{changed:,} scores written; target <= {BULK_TARGET_S:.0f} s at full size)"
    )
    print(
        f"naive per-contact recompute: {naive_s:.2f} s for {sizes.naive_sample:,} contacts -> "
        f"~{naive_all:.1f} s for all {sizes.contacts:,} (x{naive_all / bulk_s:.1f} the bulk time); "
        f"largest score gap bulk vs naive: {gap:.4f}"
    )
    print(
        f"incremental update ({sizes.updates:,} calls): p50 {statistics.median(without):.2f} ms, "
        f"p99 {_pct(without, 0.99):.2f} ms; "
        f"with commit p50 {statistics.median(with_commit):.2f} ms, "
        f"p99 {_pct(with_commit, 0.99):.2f} ms (target p99 <= {P99_TARGET_MS:.0f} ms)"
    )
    return 0 if gap < 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
