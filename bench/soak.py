"""Fault soak: changes pushed to three CRM sandboxes that fail 20 % of calls (429, 5xx,
slow answers, dropped connections) by several worker processes on PostgreSQL, some of
them SIGKILLed mid-batch. Besides contacts, deals, notes and activities that reference
contacts (new ones of the same transaction too) are created in random order. Afterwards
it counts, per CRM: records lost (missing or stale), duplicates created, references left
dangling (a child whose CRM copy does not point at its contact's CRM copy), and dead
letters (each must carry its error).

    python bench/soak.py            # 5,000 changes, 3 workers, 3 kills
    python bench/soak.py --quick    # 300 changes, for CI

Exits 1 when anything was lost or duplicated, or a dead letter has no error.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.config import Settings
from crmsync.connectors.base import Connector
from crmsync.demo import ServerThread
from crmsync.demo_crms import CONTACTS, DEMO_PROVIDERS, standard_fields
from crmsync.records.service import create_record, upsert_records
from crmsync.sandbox import create
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import RECORD_MODELS, Contact, Integration, Link, SyncJob
from crmsync.sync.targets import TargetResolver, set_object_mapping
from crmsync.workspaces import create_workspace

PG = "postgresql://postgres@127.0.0.1:5432/test"
PROVIDERS = ("hubspot", "salesforce", "pipedrive")
RETRY = {"attempts": 5, "base_seconds": 0.05, "cap_seconds": 0.4, "jitter": 0.2}
# per CRM: record types that reference a contact -> the remote property holding it
CHILDREN: dict[str, dict[str, str]] = {
    "hubspot": {
        "deals": "associations:contacts",
        "notes": "associations:contacts",
        "activities": "associations:contacts",
    },
    "salesforce": {"deals": "OpportunityContactRole:ContactId", "activities": "WhoId"},
    "pipedrive": {"deals": "person_id", "notes": "person_id", "activities": "person_id"},
}
CHILD_TYPES = ("deals", "notes", "activities")


def _worker(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRMSYNC_DATABASE_URL": url,
        "CRMSYNC_MODE": "test",
        "CRMSYNC_SANDBOX_MODE": "1",
        "CRMSYNC_LOG_LEVEL": "ERROR",
        "CRMSYNC_WORKER_LEASE_SECONDS": "10",
    }
    command = [
        sys.executable,
        "-c",
        "from crmsync.cli import app; app()",
        "worker",
        "--concurrency",
        "2",
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def _remote_by_email(connector: Connector) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    cursor = None
    while True:
        page = connector.changes("contacts", cursor)
        for record in page.records:
            props = {k.lower(): v for k, v in record.properties.items()}
            email = props.get("email")
            if isinstance(email, list):  # Pipedrive keeps a list of addresses
                email = next((e.get("value") for e in email if isinstance(e, dict)), None)
            if email:
                found.setdefault(str(email).lower(), []).append(props)
        cursor = page.next_cursor
        if not page.has_more:
            return found


def _children(session: Session, workspace_id: uuid.UUID, rng: random.Random, n: int) -> None:
    """``n`` deals, notes and activities, in random order, each about a random contact
    (those of this very transaction included)."""
    contacts = list(session.scalars(select(Contact.id).where(Contact.workspace_id == workspace_id)))
    for _ in range(n):
        contact = str(rng.choice(contacts))
        kind = rng.choice(CHILD_TYPES)
        if kind == "deals":
            body: dict[str, Any] = {
                "name": f"deal {uuid.uuid4().hex[:10]}",
                "stage": "QUALIFIED",
                "amount": rng.randrange(1000, 900000),
                "close_date": "2027-06-30",
            }
        elif kind == "notes":
            body = {"body": f"note {uuid.uuid4().hex[:10]}"}
        else:
            body = {"type": "call", "subject": f"call {uuid.uuid4().hex[:10]}"}
        create_record(session, workspace_id, kind, {**body, "contact_id": contact}, "api")


def _remote_refs(connector: Connector, object_type: str, prop: str) -> dict[str, Any]:
    """Remote id -> the contact it references, for every remote record of the type."""
    found: dict[str, Any] = {}
    cursor = None
    while True:
        page = connector.changes(object_type, cursor)
        for record in page.records:
            found[record.remote_id] = record.properties.get(prop)
        cursor = page.next_cursor
        if not page.has_more:
            return found


def _graph_check(
    session: Session, connector: Connector, name: str, dead: set[uuid.UUID]
) -> dict[str, tuple[int, int, int]]:
    """Per child type: (lost, duplicates, dangling references) in one CRM."""
    integration_id = connector_integration(session, name)
    contact_links = dict(
        session.execute(
            select(Link.record_id, Link.remote_id).where(
                Link.integration_id == integration_id, Link.object_type == "contacts"
            )
        ).all()
    )
    out: dict[str, tuple[int, int, int]] = {}
    for object_type, prop in CHILDREN[name].items():
        model = RECORD_MODELS[object_type]
        children = dict(
            session.execute(
                select(model.id, model.contact_id).where(model.deleted_at.is_(None))  # type: ignore[attr-defined]
            ).all()
        )
        links = dict(
            session.execute(
                select(Link.record_id, Link.remote_id).where(
                    Link.integration_id == integration_id, Link.object_type == object_type
                )
            ).all()
        )
        remote = _remote_refs(connector, object_type, prop)
        lost = sum(
            1
            for record_id in children
            if record_id not in dead and str(links.get(record_id)) not in remote
        )
        duplicates = len(remote) - len(set(links.values()) & set(remote))
        dangling = sum(
            1
            for record_id, contact in children.items()
            if record_id in links
            and str(links[record_id]) in remote
            and str(remote[str(links[record_id])]) != str(contact_links.get(contact))
        )
        out[object_type] = (lost, duplicates, dangling)
    return out


def connector_integration(session: Session, provider: str) -> uuid.UUID:
    found = session.scalar(select(Integration.id).where(Integration.provider == provider))
    assert found is not None
    return found


def run(changes: int, workers: int, kills: int, seed: int) -> int:
    rng = random.Random(seed)
    schema = f"soak_{os.getpid()}"
    try:
        admin = psycopg.connect(PG, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL is not reachable ({exc}); the soak needs it for several workers")
        return 1 if os.environ.get("CRMSYNC_REQUIRE_SERVICES") == "1" else 0
    admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
    with ExitStack() as stack:
        stack.callback(admin.close)
        stack.callback(admin.execute, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        sessions = make_sessionmaker(engine)
        faults = SandboxOptions(rate_profile="off", fault_rate=0.2, fault_seed=seed)
        sandboxes = {p: create(p, faults) for p in PROVIDERS}
        server = SandboxServer(list(sandboxes.values())).start()
        stack.callback(server.stop)
        for sandbox in sandboxes.values():  # no faults while connecting
            sandbox.faults.configure(rate=0.0)
        with session_scope(sessions) as session:
            workspace = create_workspace(session, "soak")
            _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
        settings = Settings(database_url=url, mode="test", sandbox_mode=True)
        api_server = ServerThread(settings, 0)
        api = httpx.Client(
            base_url=f"http://127.0.0.1:{api_server.start()}",
            timeout=30,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        stack.callback(api_server.stop)
        stack.callback(api.close)
        ids: dict[str, uuid.UUID] = {}
        for name, sandbox in sandboxes.items():
            credentials, _objects = DEMO_PROVIDERS[name]
            made = api.post(
                "/api/v1/integrations",
                json={
                    "provider": name,
                    "name": name,
                    "base_url": server.url(name),
                    "credentials": credentials(sandbox, server.url(name)),
                    "rate_limit_profile": "unlimited",  # the sandboxes run with limits off
                    "config": {
                        "objects": dict.fromkeys(("contacts", *CHILDREN[name]), "outbound"),
                        "retry": RETRY,
                    },
                },
            )
            made.raise_for_status()
            ids[name] = uuid.UUID(made.json()["id"])
            with session_scope(sessions) as session:
                integration = session.get(Integration, ids[name])
                assert integration is not None
                for object_type in ("contacts", *CHILDREN[name]):
                    set_object_mapping(
                        session, integration, object_type, standard_fields(name, object_type)
                    )
        for sandbox in sandboxes.values():
            sandbox.faults.configure(rate=0.2)

        procs = [_worker(url) for _ in range(workers)]
        stack.callback(lambda: [p.kill() for p in procs])
        started = time.monotonic()
        creates = changes // 2
        emails = [f"soak{n}@example.com" for n in range(creates)]
        killed = 0
        kill_every = max(1, (changes // 100) // (kills + 1))
        for step, start in enumerate(range(0, changes, 100)):
            items = []
            for n in range(start, min(changes, start + 100)):
                if n < creates:
                    items.append({"email": emails[n], "first_name": "v0", "last_name": f"L{n}"})
                else:
                    items.append({"email": rng.choice(emails), "first_name": f"v{n}"})
            with session_scope(sessions) as session:
                upsert_records(session, workspace.id, "contacts", items, "api")
                _children(session, workspace.id, rng, 20)
            if killed < kills and step and step % kill_every == 0:
                victim = rng.randrange(len(procs))
                procs[victim].send_signal(signal.SIGKILL)
                procs[victim].wait()
                procs[victim] = _worker(url)
                killed += 1
            time.sleep(0.05)

        def open_jobs() -> int:
            with sessions() as session:
                return (
                    session.scalar(
                        select(func.count())
                        .select_from(SyncJob)
                        .where(SyncJob.status.in_(("pending", "running")))
                    )
                    or 0
                )

        deadline = time.monotonic() + 900
        while open_jobs() and time.monotonic() < deadline:
            time.sleep(0.5)
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
        elapsed = time.monotonic() - started
        for sandbox in sandboxes.values():
            sandbox.faults.configure(rate=0.0)

        resolver = TargetResolver(settings)
        stack.callback(resolver.close)
        failures = 0
        print(
            f"{changes:,} changes ({creates:,} contacts), {workers} workers, {killed} SIGKILLed, "
            f"20% faults, settled in {elapsed:.0f} s; open jobs left: {open_jobs()}"
        )
        with sessions() as session:
            local = {
                c.email: c
                for c in session.scalars(
                    select(Contact).where(Contact.workspace_id == workspace.id)
                )
            }
            for name in PROVIDERS:
                integration = session.get(Integration, ids[name])
                assert integration is not None
                dead = list(
                    session.scalars(
                        select(SyncJob).where(
                            SyncJob.integration_id == integration.id,
                            SyncJob.status.in_(("dead", "failed")),
                        )
                    )
                )
                dead_records = {j.record_id for j in dead}
                remote = _remote_by_email(resolver.connector(integration))
                duplicates = sum(len(v) - 1 for v in remote.values() if len(v) > 1)
                lost = stale = 0
                for email, contact in local.items():
                    if contact.id in dead_records:
                        continue  # in the dead-letter queue: reported, not lost
                    copies = remote.get(str(email))
                    if not copies:
                        lost += 1
                    elif {str(c.get("firstname") or c.get("first_name")) for c in copies} != {
                        contact.first_name
                    }:
                        stale += 1
                graph = _graph_check(session, resolver.connector(integration), name, dead_records)
                for object_type, (g_lost, g_dup, g_dangling) in graph.items():
                    print(
                        f"  {name:<11} {object_type:<10} lost {g_lost}  duplicates {g_dup}  "
                        f"dangling references {g_dangling}"
                    )
                    failures += g_lost + g_dup + g_dangling
                no_error = sum(1 for j in dead if not j.last_error)
                links = session.scalar(
                    select(func.count())
                    .select_from(Link)
                    .where(Link.integration_id == integration.id)
                )
                count = sandboxes[name].counts().get(CONTACTS.get(name, "contacts"), 0)
                print(
                    f"  {name:<11} remote {count:>6,}  links {links:>6,}  lost {lost}  "
                    f"stale {stale}  duplicates {duplicates}  dead letters {len(dead)} "
                    f"(without error: {no_error})  faults injected "
                    f"{sandboxes[name].faults.injected:,}"
                )
                failures += lost + stale + duplicates + no_error
    print(
        "OK: nothing lost, nothing duplicated, no dangling reference"
        if not failures
        else f"FAILED: {failures}"
    )
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="300 changes, 2 workers, 1 kill")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.quick:
        return run(300, 2, 1, args.seed)
    return run(5000, 3, 3, args.seed)


if __name__ == "__main__":
    raise SystemExit(main())
