"""Duplicates of stored contacts: cluster listing, check and merge, over a migrated database.

Stores N synthetic contacts (bench/gen_contacts.py: a fifth of the people have noisy
duplicates) in one workspace, then times, through the service layer the API calls:

- the first page of clusters (loads the workspace and runs find_duplicates: a cold
  build), and a later page (served from the per-workspace cache);
- check of a stored contact against the cached index (p50/p99); the first check after
  changes (the snapshot catches up), and with no snapshot (a full build);
- merge of one cluster (strategy ``merge``), each in its own transaction (p50/p99).

    python bench/dedup_merge.py                 # 20,000 contacts, SQLite
    python bench/dedup_merge.py --quick         # 2,000 contacts
    python bench/dedup_merge.py 50000 --backend postgresql
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from gen_contacts import contacts

from crmsync.dedup import service, snapshot
from crmsync.dedup.merge import merge
from crmsync.records import service as records
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.workspaces import create_workspace

FULL, QUICK = 20_000, 2_000


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
            upgrade(url)
            yield url
        return
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(
        "host=127.0.0.1 user=postgres dbname=test", autocommit=True, connect_timeout=3
    ) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
            upgrade(url)
            yield url
        finally:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """The result, wall ms and CPU ms of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def pct(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=int, nargs="?", default=FULL)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK:,} contacts")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--merges", type=int, default=50)
    args = parser.parse_args(argv)
    size = QUICK if args.quick else args.size
    load = os.getloadavg()[0]
    with database(args.backend) as url:
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with session_scope(sessions) as db:
            workspace_id = create_workspace(db, "bench").id
        start = time.perf_counter()
        batch: list[dict[str, Any]] = []
        for record in contacts(size):
            record.pop("person")
            record["external_ref"] = record.pop("id")
            record["date_of_birth"] = record.pop("dob")
            batch.append(record)
            if len(batch) == 1000 or record["external_ref"] == f"c{size - 1}":
                with session_scope(sessions) as db:
                    results = records.upsert_records(db, workspace_id, "contacts", batch, "bench")
                assert all(r.status == "created" for r in results), results[0]
                batch = []
        print(f"stored {size:,} contacts ({args.backend}) in {time.perf_counter() - start:.1f} s")

        with sessions() as db:
            (_page, cursor), wall, cpu = timed(lambda: service.clusters(db, workspace_id, None, 50))
            print(f"clusters, first page (cold build): {wall:,.0f} ms wall, {cpu:,.0f} ms CPU")
            _, wall, cpu = timed(lambda: service.clusters(db, workspace_id, cursor, 50))
            print(f"clusters, next page (cached): {wall:,.1f} ms wall, {cpu:,.1f} ms CPU")
            everything: list[Any] = []
            cursor = None
            while True:
                found, cursor = service.clusters(db, workspace_id, cursor, 500)
                everything += found
                if cursor is None:
                    break
            ids = [uuid.UUID(i) for cluster in everything for i in cluster.ids][:200]
            service.check(db, workspace_id, ids[0])  # builds the index
            runs = [timed(lambda i=i: service.check(db, workspace_id, i)) for i in ids]
            times, cpus = [r[1] for r in runs], [r[2] for r in runs]
            print(
                f"check (cached index), {len(times)} calls: p50 {statistics.median(times):.1f}"
                f" ms, p99 {pct(times, 0.99):.1f} ms wall; CPU p50 {statistics.median(cpus):.1f}"
                f" ms, p99 {pct(cpus, 0.99):.1f} ms"
            )
        print(f"{len(everything):,} clusters")

        merges: list[tuple[Any, float, float]] = []
        for cluster in everything[: args.merges]:
            survivor, *rest = (uuid.UUID(i) for i in sorted(cluster.ids))
            with sessions() as db:
                merges.append(
                    timed(
                        lambda db=db, s=survivor, r=rest: (
                            merge(db, workspace_id, s, r, "merge"),
                            db.commit(),
                        )
                    )
                )
        if merges:
            walls, cpus = [m[1] for m in merges], [m[2] for m in merges]
            print(
                f"merge, {len(merges)} clusters: p50 {statistics.median(walls):.1f} ms,"
                f" p99 {pct(walls, 0.99):.1f} ms wall; CPU p50 {statistics.median(cpus):.1f} ms"
            )
        with sessions() as db:
            probe = uuid.UUID(everything[-1].ids[0])
            _, wall, cpu = timed(lambda: service.check(db, workspace_id, probe))
            print(
                f"first check after the merges (catch-up): {wall:,.0f} ms wall, {cpu:,.0f} ms CPU"
            )
            made = records.create_record(
                db, workspace_id, "contacts", {"first_name": "New", "email": "new@x.example"}, "b"
            )
            db.commit()
            _, wall, cpu = timed(lambda: service.check(db, workspace_id, made.id))
            print(
                f"check of a contact just created (catch-up): {wall:,.1f} ms wall,"
                f" {cpu:,.1f} ms CPU"
            )
            snapshot.forget(workspace_id)
            _, wall, cpu = timed(lambda: service.check(db, workspace_id, probe))
            print(f"check with no snapshot (full rebuild): {wall:,.0f} ms wall, {cpu:,.0f} ms CPU")
        engine.dispose()
    print(f"load average at start: {load:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
