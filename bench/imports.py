"""Lead-file import benchmark: a generated lead file through every stage, against a floor.

    python bench/imports.py              # 1,000,000 rows end to end (~15 minutes)
    python bench/imports.py --quick      # a small size for CI, well under a minute
    python bench/imports.py --rows 100000 --http-rows 10000
    python bench/imports.py --rows 100000 --verdicts answers.json   # compare two versions
    python bench/imports.py --rows 100000 --outcomes outcomes.json  # all that the import wrote
    python bench/imports.py --rows 200000 --e2e-only   # run_import alone, with both processes' CPU

The preview of the whole file (a sample of its first rows through the import's pipeline,
with dedup against the seeded workspace) is timed first: it must not grow with the file.

The file has 10 columns, ~5% bad e-mails or phones, ~10% duplicates (half exact, half
fuzzy: a nickname or a typo with the same phone). 1% of its people already exist in the
workspace. Stages are timed as separate passes over the same rows (read, map + cleanse +
validate + dedup preparation, dedup, write), in one process; "end to end" is
``run_import`` itself on the whole file, with its default batch size and (for a file
over 2 MB) its second mapping process. The floor is a polars read of the file plus one
bulk insert of the same rows. Everything runs on SQLite.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crmsync.dedup.guard import DuplicateGuard  # noqa: E402
from crmsync.imports import jobs  # noqa: E402
from crmsync.imports.mapped import BatchSource  # noqa: E402
from crmsync.imports.options import DEFAULT_BATCH_SIZE, ImportOptions  # noqa: E402
from crmsync.imports.preview import preview_file  # noqa: E402
from crmsync.imports.readers import open_table  # noqa: E402
from crmsync.imports.runner import run_import  # noqa: E402
from crmsync.imports.settings import ImportSettings  # noqa: E402
from crmsync.records.service import upsert_records  # noqa: E402
from crmsync.store.base import new_id  # noqa: E402
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope  # noqa: E402
from crmsync.store.migrate import upgrade  # noqa: E402
from crmsync.store.models import ChangeLog, Contact  # noqa: E402
from crmsync.store.models.imports import ImportBatch, ImportJob, ImportRow  # noqa: E402
from crmsync.workspaces import create_workspace  # noqa: E402

HEADER = ["Ref", "First Name", "Last Name", "Email", "Phone", "Company", "City", "State",
          "Zip", "Lead Source"]  # fmt: skip
COLUMNS = {
    "Ref": "external_ref",
    "First Name": "first_name",
    "Last Name": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Company": "company",
    "City": "city",
    "State": "state",
    "Zip": "postal_code",
    "Lead Source": "source",
}
FIRST = ["James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
         "William", "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica",
         "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa"]  # fmt: skip
NICK = {"James": "Jim", "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz",
        "Michael": "Mike", "Richard": "Rick", "Joseph": "Joe", "Thomas": "Tom",
        "Jennifer": "Jen", "Daniel": "Dan", "Matthew": "Matt", "Patricia": "Pat"}  # fmt: skip
CITIES = ["Austin", "Denver", "Boston", "Seattle", "Miami", "Chicago", "Phoenix", "Atlanta"]
AREA = ["212", "312", "415", "512", "617", "702", "305", "404"]


def _last(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3)).title()


def person(rng: random.Random, i: int) -> list[str]:
    first, last = rng.choice(FIRST), _last(rng)
    email = f"{first}.{last}{i}@{rng.choice(['gmail.com', 'acme.com', 'mail.example'])}".lower()
    phone = f"({rng.choice(AREA)}) {rng.randint(201, 989)}-{rng.randint(1000, 9999)}"
    return [f"r{i}", first, last, email, phone, f"{last} Realty", rng.choice(CITIES), "TX",
            f"{rng.randint(10000, 99999)}", "web"]  # fmt: skip


def generate(
    path: Path, rows: int, seed: int = 7, truth: list[int] | None = None
) -> list[list[str]]:
    """Write the lead file; returns the 1% of people to seed as existing records.

    ``truth``, when given, receives each row's person: the number of the row that
    introduced them (a duplicate's is its original's)."""
    rng = random.Random(seed)
    people: list[list[str]] = []
    existing: list[list[str]] = []
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        for i in range(rows):
            roll = rng.random()
            origin = i
            if people and roll < 0.05:  # exact duplicate, new ref
                base = rng.choice(people)
                row, origin = [f"r{i}", *base[1:]], int(base[0][1:])
            elif people and roll < 0.10:  # fuzzy: nickname or typo, same phone
                base = rng.choice(people)
                first = NICK.get(base[1], base[1][:-1] + base[1][-1] * 2)
                origin = int(base[0][1:])
                row = [f"r{i}", first, base[2], f"{first}.{base[2]}@other.example".lower(),
                       *base[4:]]  # fmt: skip
            else:
                row = person(rng, i)
                if len(people) < 50_000:
                    people.append(row)
                if rng.random() < 0.01:
                    existing.append(row)
            if rng.random() < 0.05:  # bad e-mail or phone
                if rng.random() < 0.5:
                    row[3] = row[3].replace("@", " at ")
                else:
                    row[4] = "12-34"
            if truth is not None:
                truth.append(origin)
            out.write(",".join(row) + "\n")
    return existing


def seed(sessions: sessionmaker[Session], existing: list[list[str]]) -> uuid.UUID:
    with session_scope(sessions) as session:
        workspace = create_workspace(session, f"bench-{uuid.uuid4().hex[:6]}").id
        payloads = [{COLUMNS[h]: v for h, v in zip(HEADER[1:], row[1:], strict=True)}
                    for row in existing]  # fmt: skip
        for start in range(0, len(payloads), 1000):
            upsert_records(session, workspace, "contacts", payloads[start : start + 1000], "api")
    return workspace


def floor(path: Path, sessions: sessionmaker[Session], workspace: uuid.UUID) -> float:
    start = time.perf_counter()
    frame = pl.read_csv(path, infer_schema=False)
    renamed = frame.rename({h: COLUMNS[h] for h in HEADER}).rename({"external_ref": "ext"})
    rows = [
        {**r, "id": new_id(), "workspace_id": workspace, "external_ref": r.pop("ext")}
        for r in renamed.to_dicts()
    ]
    with session_scope(sessions) as session:
        session.execute(insert(Contact), rows)
    return time.perf_counter() - start


def children_cpu() -> float:
    """CPU seconds of this process's ended children (the import's mapping process)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(label: str, seconds: float, rows: int, note: str = "") -> None:
    rate = rows / seconds if seconds else float("inf")
    print(f"  {label:<28} {seconds:9.2f} s  {rate:11,.0f} rows/s  {note}")


def batch_source(path: Path, limits: ImportSettings) -> BatchSource:
    """The import's mapping of the lead file, as ``run_import`` sets it up."""
    return BatchSource(
        path=path, filename=path.name, file_format="csv", sheet=None, limits=limits.model_dump(),
        object_type="contacts", columns=COLUMNS, region="US", cleanse=True, validate=True,
        batch_size=DEFAULT_BATCH_SIZE, dedup_region="US",
    )  # fmt: skip


def stages(path: Path, sessions: sessionmaker[Session], limits: ImportSettings,
           workspace: uuid.UUID, dedup_rows: int,
           verdicts: Path | None = None) -> dict[str, float]:  # fmt: skip
    reader = open_table(path, path.name, limits)
    start = time.perf_counter()
    rows = list(reader.rows())
    read = time.perf_counter() - start
    timed("read (csv reader)", read, len(rows))
    source = batch_source(path, limits)
    mapper = source.mapper()
    start, cpu = time.perf_counter(), time.process_time()
    batches = [source.map(mapper, rows[first : first + DEFAULT_BATCH_SIZE])
               for first in range(0, len(rows), DEFAULT_BATCH_SIZE)]  # fmt: skip
    mapping = time.perf_counter() - start
    cpu = time.process_time() - cpu
    timed("map + cleanse + validate", mapping, len(rows),
          f"and dedup's preparation; {cpu:.2f} s CPU")  # fmt: skip
    good = [fields for batch in batches for _row, fields in batch.valid]
    with sessions() as session:
        guard = DuplicateGuard.load(session, workspace, "contacts")
    checked = 0
    found: dict[str, tuple[str, str, float]] = {}
    start, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        if checked >= dedup_rows:
            break
        found.update(guard.check_batch(batch.keyed(), batch.dedup))
        checked += len(batch.valid)
    dedup = (time.perf_counter() - start) / max(checked, 1) * len(good)
    cpu = time.process_time() - cpu
    note = f"{cpu:.2f} s CPU for {checked:,} rows"
    if checked < len(good):
        note += ", wall extrapolated to all"
    timed("dedup (check_batch)", dedup, len(good), note)
    if verdicts is not None:
        write_verdicts(verdicts, found, sessions, workspace)
    with session_scope(sessions) as session:
        target = create_workspace(session, "bench-write").id
    start = time.perf_counter()
    for first in range(0, len(good), DEFAULT_BATCH_SIZE):
        with session_scope(sessions) as session:
            part = good[first : first + DEFAULT_BATCH_SIZE]
            for one in range(0, len(part), 1000):
                # mapped fields are parse_fields' answers, written as the import writes them
                upsert_records(session, target, "contacts", part[one : one + 1000], "import:x",
                               already_parsed=True)  # fmt: skip
    write = time.perf_counter() - start
    timed("write (upsert + ChangeLog)", write, len(good))
    return {"read": read, "map": mapping, "dedup": dedup, "write": write}


def write_verdicts(path: Path, found: dict[str, tuple[str, str, float]],
                   sessions: sessionmaker[Session], workspace: uuid.UUID) -> None:  # fmt: skip
    """The dedup stage's answers as JSON, to compare two versions of the code on one file:
    an existing contact is named by its fields (its id differs in every run)."""
    fields = (Contact.first_name, Contact.last_name, Contact.email, Contact.phone,
              Contact.company, Contact.city)  # fmt: skip
    with sessions() as session:
        stmt = select(Contact.id, *fields).where(Contact.workspace_id == workspace)
        named = {str(r[0]): "|".join(map(str, r[1:])) for r in session.execute(stmt)}
    rows = sorted(
        (key, status, named.get(of, of), score) for key, (status, of, score) in found.items()
    )
    path.write_text(json.dumps(rows, indent=0))
    print(f"  dedup answers ({len(rows):,} rows matched) written to {path}")


def end_to_end(path: Path, sessions: sessionmaker[Session], limits: ImportSettings,
               workspace: uuid.UUID) -> tuple[float, Any]:  # fmt: skip
    start = time.perf_counter()
    with session_scope(sessions) as session, path.open("rb") as data:
        job = jobs.create_job(session, workspace, limits, filename=path.name, data=data,
                              options=ImportOptions(), columns=COLUMNS)  # fmt: skip
        jobs.start_job(job)
    status = run_import(sessions, job.id, limits=limits)
    seconds = time.perf_counter() - start
    with sessions() as session:
        done = jobs.get_job(session, workspace, job.id)
        logged = session.scalar(select(func.count()).where(ChangeLog.source == f"import:{job.id}"))
        return seconds, (status, done.total_rows, done.created, done.updated, done.failed,
                         done.duplicates, logged)  # fmt: skip


def write_outcomes(path: Path, sessions: sessionmaker[Session], workspace: uuid.UUID) -> None:
    """Everything the end-to-end import wrote, as JSON to compare two versions of the code
    byte for byte: records (every field but ids and times), ChangeLog rows, import rows
    and batch rows, sorted, a record named by its ref (or e-mail, name and phone)."""
    with sessions() as session:
        columns = [c.key for c in Contact.__table__.columns]  # type: ignore[attr-defined]
        skip = {"id", "workspace_id", "created_at", "updated_at"}
        contacts = session.scalars(select(Contact).where(Contact.workspace_id == workspace))
        records, name = [], {}
        for c in contacts:
            name[str(c.id)] = c.external_ref or f"email:{c.email}|{c.first_name}|{c.phone}"
            records.append(json.dumps({k: getattr(c, k) for k in columns if k not in skip},
                                      default=str, sort_keys=True))  # fmt: skip
        logged = []
        for r in session.scalars(select(ChangeLog).where(ChangeLog.workspace_id == workspace)):
            who = name.get(str(r.record_id), "?")
            change = [who, r.record_type, r.field, r.old_value, r.new_value, r.source[:6]]
            logged.append(json.dumps(change, default=str))
        jobs_of = select(ImportJob.id).where(ImportJob.workspace_id == workspace)
        rows = []
        for r in session.scalars(select(ImportRow).where(ImportRow.job_id.in_(jobs_of))):
            of = name.get(str(r.duplicate_of), r.duplicate_of)
            rows.append(json.dumps([r.row_number, r.line, r.outcome, r.values, r.errors, of],
                                   default=str))  # fmt: skip
        batches = []
        for b in session.scalars(select(ImportBatch).where(ImportBatch.job_id.in_(jobs_of))):
            written = [[n, line, status, name.get(ref) if ref else None, warnings]
                       for n, line, status, ref, warnings in b.rows]  # fmt: skip
            batches.append(json.dumps([b.first_row, b.last_row, written], default=str))
    dump = {"records": sorted(records), "changelog": sorted(logged), "import_rows": sorted(rows),
            "batches": sorted(batches)}  # fmt: skip
    path.write_text(json.dumps(dump, indent=0))
    print(f"  outcomes ({len(records):,} records, {len(logged):,} ChangeLog rows, "
          f"{len(rows):,} import rows) written to {path}")  # fmt: skip


def preview(path: Path, sessions: sessionmaker[Session], limits: ImportSettings,
            workspace: uuid.UUID) -> float:  # fmt: skip
    """``preview_file`` on the whole file as an upload would be: suggested mapping, the
    pipeline and dedup against the seeded workspace on its sample (target <= 3 s)."""
    start = time.perf_counter()
    with sessions() as session:
        answer = preview_file(path, path.name, limits, ImportOptions(), None, session=session,
                              workspace_id=workspace)  # fmt: skip
    seconds = time.perf_counter() - start
    sample = answer["sample"]
    timed("preview (sample, suggested)", seconds, sample["rows"],
          f"of {path.stat().st_size / 1e6:.0f} MB; {sample['would_fail']} would fail, "
          f"{sample['duplicates']} duplicates; target <= 3 s")  # fmt: skip
    return seconds


def changelog_floor(folder: Path, count: int) -> float:
    """Seconds raw sqlite3 takes to write ``count`` ChangeLog-shaped rows (the real table
    and index, tuples built beforehand in batches): what the import's audit trail alone
    costs, below any crmsync code."""
    url = f"sqlite:///{folder / 'changelog-floor.db'}"
    engine = make_engine(url)
    ChangeLog.__table__.create(engine)  # type: ignore[attr-defined]
    engine.dispose()
    columns = "workspace_id, record_type, record_id, field, old_value, new_value, source, at"
    sql = f"insert into change_log ({columns}) values (?, ?, ?, ?, ?, ?, ?, ?)"
    workspace, fields = uuid.uuid4().hex, list(COLUMNS.values())
    db = sqlite3.connect(folder / "changelog-floor.db")
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=normal")
    start = time.perf_counter()
    written = 0
    while written < count:
        size = min(100_000, count - written)
        rows = [(workspace, "contacts", uuid.uuid4().hex, fields[n % len(fields)], None,
                 f'"value {n}"', "import:x", "2026-12-03 12:00:00.000000")
                for n in range(written, written + size)]  # fmt: skip
        db.executemany(sql, rows)
        db.commit()
        written += size
    db.close()
    return time.perf_counter() - start


def http_path(folder: Path, db_url: str, limits: ImportSettings, rows: int) -> float:
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

    from crmsync.api.app import create_app
    from crmsync.auth.keys import create_api_key
    from crmsync.auth.permissions import Role
    from crmsync.config import Settings

    path = folder / "http.csv"
    generate(path, rows, seed=11)
    app = create_app(Settings(database_url=db_url, max_upload_mb=100))
    app.state.import_settings = limits
    with session_scope(app.state.sessionmaker) as session:
        workspace = create_workspace(session, "bench-http").id
        key = create_api_key(session, workspace, Role.ADMIN)[1]
    headers = {"Authorization": f"Bearer {key}"}
    start = time.perf_counter()
    with TestClient(app) as client:
        files = {"file": ("http.csv", io.BytesIO(path.read_bytes()))}
        data = {"mapping": json.dumps(COLUMNS), "start": "true"}
        job = client.post("/api/v1/imports", files=files, data=data, headers=headers).json()
        app.state.import_launcher.join(uuid.UUID(job["id"]))
        progress = client.get(f"/api/v1/imports/{job['id']}/progress", headers=headers).json()
    seconds = time.perf_counter() - start
    timed("HTTP upload + job", seconds, rows, f"status {progress['status']}, "
          f"{progress['created']:,} created, {progress['failed']:,} failed")  # fmt: skip
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--dedup-rows", type=int, default=200_000,
                        help="rows the dedup stage is timed on (then extrapolated)")  # fmt: skip
    parser.add_argument("--e2e-rows", type=int, default=None,
                        help="rows of the end-to-end run (default: the whole file)")  # fmt: skip
    parser.add_argument("--http-rows", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="small sizes for CI")
    parser.add_argument("--verdicts", type=Path, default=None,
                        help="the dedup stage's answers to this JSON file")  # fmt: skip
    parser.add_argument("--outcomes", type=Path, default=None,
                        help="all that the end-to-end import wrote, to this JSON file")  # fmt: skip
    parser.add_argument("--e2e-only", action="store_true",
                        help="the end-to-end run alone: no preview, floor, stages")  # fmt: skip
    args = parser.parse_args()
    if args.quick:
        args.rows, args.dedup_rows, args.e2e_rows, args.http_rows = 2_000, 100, 100, 100
    e2e_rows = min(args.e2e_rows or args.rows, args.rows)
    folder = Path(tempfile.mkdtemp(prefix="crmsync-bench-imports-"))
    db_url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(db_url)
    sessions = make_sessionmaker(make_engine(db_url))
    limits = ImportSettings(data_dir=folder / "data", max_upload_mb=2048, max_rows=10_000_000)
    path = folder / "leads.csv"
    start = time.perf_counter()
    existing = generate(path, args.rows)
    size = path.stat().st_size / 1e6
    took = time.perf_counter() - start
    print(f"lead file: {args.rows:,} rows, {size:.1f} MB, generated in {took:.1f} s")
    print(f"{len(existing):,} of its people seeded as existing contacts")
    workspace = seed(sessions, existing)
    floor_s = 0.0
    if not args.e2e_only:
        preview(path, sessions, limits, workspace)
        with session_scope(sessions) as session:
            floor_ws = create_workspace(session, "bench-floor").id
        floor_s = floor(path, sessions, floor_ws)
        print("stages (SQLite, separate passes):")
        timed("floor: polars + bulk insert", floor_s, args.rows)
        parts = stages(path, sessions, limits, workspace, args.dedup_rows, args.verdicts)
        total = sum(parts.values())
        timed("sum of stages", total, args.rows, f"ratio to floor {total / floor_s:.1f}")
        without = total - parts["dedup"]
        timed("sum without dedup", without, args.rows, f"ratio to floor {without / floor_s:.1f}")
    e2e_path = path
    if e2e_rows < args.rows:
        e2e_path = folder / "slice.csv"
        with path.open(encoding="utf-8") as src, e2e_path.open("w", encoding="utf-8") as out:
            for _ in range(e2e_rows + 1):
                out.write(src.readline())
    e2e_ws = seed(sessions, existing)
    cpu, mapping_cpu = time.process_time(), children_cpu()
    seconds, result = end_to_end(e2e_path, sessions, limits, e2e_ws)
    cpu, mapping_cpu = time.process_time() - cpu, children_cpu() - mapping_cpu
    timed("end to end (run_import)", seconds, e2e_rows,
          "status, total, created, updated, failed, duplicates, ChangeLog rows = "
          + str(result))  # fmt: skip
    print(f"  CPU: importing process {cpu:.2f} s, mapping process {mapping_cpu:.2f} s; "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    if args.outcomes is not None:
        write_outcomes(args.outcomes, sessions, e2e_ws)
    if args.e2e_only:
        return
    floor_rate = args.rows / floor_s
    print(f"  end to end / floor (per row): {seconds / e2e_rows * floor_rate:.1f}"
          " (targets: 1,000,000 rows <= 60 s, ratio <= 4)")  # fmt: skip
    logged = result[-1]
    timed("ChangeLog alone, raw sqlite3", changelog_floor(folder, logged), logged,
          f"the {logged:,} rows end to end logged, as plain tuples")  # fmt: skip
    http_path(folder, db_url, limits, args.http_rows)


if __name__ == "__main__":
    main()
