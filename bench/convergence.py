"""Two-way convergence soak: people edit the same contacts at once in the app (through
the API), in the HubSpot sandbox and in the Pipedrive sandbox, and delete some of them
on every side (each delete raced by an edit elsewhere), while the sandboxes fail a
share of crmsync's calls and a worker is SIGKILLed. Then quiescence: faults off, a full
sync of both CRMs (twice), conflicts resolved under ``manual``; then the checker
(``_convergence_check``) compares every side with the writes.

    python bench/convergence.py           # 300 contacts, 60 s of edits; all policies, both DBs
    python bench/convergence.py --quick   # CI: SQLite, last_write_wins, 30 contacts, 6 s
    python bench/convergence.py --db sqlite --policy manual

SQLite runs one crmsync process (API and worker, SIGKILLed and restarted); PostgreSQL
runs the API and two worker processes (one SIGKILLed and restarted). Exits 1 when any
run has a divergent field, a lost update, a duplicate, a resurrected contact, or an
open or spurious conflict.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import _convergence_check as checker
import httpx
from _stores import Unavailable, postgres_url
from sqlalchemy import func, select

from crmsync.auth.keys import create_api_key
from crmsync.auth.permissions import Role
from crmsync.demo_crms import DEMO_PROVIDERS, standard_fields
from crmsync.sandbox import create
from crmsync.sandbox.base import SandboxOptions
from crmsync.sandbox.pipedrive.envelope import PipedriveError
from crmsync.sandbox.pipedrive.kinds import PERSON
from crmsync.sandbox.server import SandboxServer
from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
from crmsync.store.migrate import upgrade
from crmsync.store.models import Conflict, Contact, Integration, SyncJob, SyncRun, WebhookEvent
from crmsync.sync.targets import set_object_mapping
from crmsync.workspaces import create_workspace

CRMS = ("hubspot", "pipedrive")
PROPS = {
    "hubspot": {"first_name": "firstname", "last_name": "lastname", "phone": "phone"},
    "pipedrive": {"first_name": "first_name", "last_name": "last_name", "phone": "phone"},
}
RETRY = {"attempts": 8, "base_seconds": 0.05, "cap_seconds": 0.5, "jitter": 0.2}
HOOK = ("crmsync", "hook-password-for-the-soak")
POLICIES = ("last_write_wins", "crm_wins", "manual")
PATIENCE = 300.0  # seconds: bounds waits on a condition against hanging, never a timing check


@dataclass(frozen=True)
class Scenario:
    backend: str
    policy: str
    contacts: int
    seconds: float
    edits_per_second: float = 25.0
    delete_share: float = 0.03
    fault_rate: float = 0.15
    seed: int = 7
    min_edits: int = 0  # the edit phase lasts `seconds` and this many edits, however slow


# -- processes -----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(url: str, port: int, worker: bool) -> None:
    """Child process: the API (and with ``worker`` a sync worker) until killed."""
    from crmsync.config import Settings
    from crmsync.demo import ServerThread
    from crmsync.logging import configure
    from crmsync.sync.targets import targets_of
    from crmsync.sync.worker import Worker

    settings = Settings(
        database_url=url,
        mode="test",
        sandbox_mode=True,
        log_level="ERROR",
        base_url=f"http://127.0.0.1:{port}",
    )
    configure("ERROR", json=True)
    server = ServerThread(settings, port)
    server.start()
    if worker:
        Worker(
            server.app.state.sessionmaker,
            targets_of(server.app),
            poll_interval=0.2,
            lease=timedelta(seconds=5),
            reap_interval=1.0,
        ).start()
    signal.sigwait({signal.SIGTERM})


def _spawn_api(url: str, port: int, worker: bool) -> subprocess.Popen[bytes]:
    command = [sys.executable, __file__, "--serve", url, str(port)]
    proc = subprocess.Popen(
        [*command, *(["--with-worker"] if worker else [])],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # a SIGKILL mid-request leaves tracebacks, not news
    )
    # Up once its health probe answers; a starved machine may take minutes to import,
    # so the bound only guards against a hang, and an API that exits fails at once.
    deadline = time.monotonic() + PATIENCE
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the crmsync API did not start (exit status {proc.poll()})")


def _spawn_worker(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRMSYNC_DATABASE_URL": url,
        "CRMSYNC_MODE": "test",
        "CRMSYNC_SANDBOX_MODE": "1",
        "CRMSYNC_LOG_LEVEL": "ERROR",
        "CRMSYNC_WORKER_LEASE_SECONDS": "5",
    }
    command = [sys.executable, "-c", "from crmsync.cli import app; app()", "worker"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@contextmanager
def database(backend: str) -> Iterator[str]:
    if backend == "postgres":
        with postgres_url() as url:
            yield url.replace("postgresql://", "postgresql+psycopg://")
        return
    keep = os.environ.get("CONVERGENCE_KEEP_DB")  # a path: the database stays to look at
    if keep:
        Path(keep).unlink(missing_ok=True)
        yield f"sqlite:///{keep}"
        return
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'convergence.db'}"


# -- the run -------------------------------------------------------------------------


class Soak:
    def __init__(self, scenario: Scenario, url: str, stack: ExitStack) -> None:
        self.s = scenario
        self.url = url
        self.rng = random.Random(scenario.seed)
        self.sandboxes = {n: create(n, SandboxOptions(rate_profile="off")) for n in CRMS}
        self.server = SandboxServer(list(self.sandboxes.values())).start()
        stack.callback(self.server.stop)
        upgrade(url)
        self.engine = make_engine(url)
        stack.callback(self.engine.dispose)
        self.sessions = make_sessionmaker(self.engine)
        with session_scope(self.sessions) as session:
            workspace = create_workspace(session, "convergence")
            _key, api_key = create_api_key(session, workspace.id, Role.ADMIN)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        stack.callback(self._stop_all)
        sqlite = scenario.backend == "sqlite"
        self.procs.append(_spawn_api(url, self.port, worker=sqlite))
        if not sqlite:
            self.procs += [_spawn_worker(url), _spawn_worker(url)]
        self.api = httpx.Client(
            base_url=self.base, timeout=10, headers={"Authorization": f"Bearer {api_key}"}
        )
        stack.callback(self.api.close)
        self.integrations: dict[str, str] = {}
        self.ids: dict[str, str] = {}  # email -> crmsync id
        self.remote: dict[str, dict[str, str]] = {n: {} for n in CRMS}  # email -> remote id
        self.initial: dict[str, dict[str, str]] = {}
        self.writes: list[checker.Write] = []
        self.deleted: set[str] = set()
        self.unsure: set[str] = set()  # deletes whose answer was lost
        self.seq = 0

    def _stop_all(self) -> None:
        for proc in self.procs:
            proc.kill()
            proc.wait()

    def connect(self) -> None:
        for name, sandbox in self.sandboxes.items():
            url = self.server.url(name)
            credentials = DEMO_PROVIDERS[name][0](sandbox, url)
            if name == "pipedrive":
                credentials |= {"webhook_user": HOOK[0], "webhook_password": HOOK[1]}
            config = {
                "objects": {"contacts": "both"},
                "frequency": "30s",
                "conflict_policy": self.s.policy,
                "delete_propagation": True,
                "retry": RETRY,
            }
            made = self.api.post(
                "/api/v1/integrations",
                json={
                    "provider": name,
                    "name": name,
                    "credentials": credentials,
                    "base_url": url,
                    "rate_limit_profile": "unlimited",
                    "config": config,
                },
            )
            made.raise_for_status()
            self.integrations[name] = made.json()["id"]
            with session_scope(self.sessions) as session:
                integration = session.get(Integration, uuid.UUID(self.integrations[name]))
                assert integration is not None
                set_object_mapping(
                    session, integration, "contacts", standard_fields(name, "contacts")
                )
            hook: dict[str, Any] = {
                "url": f"{self.base}/api/v1/webhooks/{name}/{self.integrations[name]}"
            }
            if name == "pipedrive":
                hook["basic_auth"] = list(HOOK)
            httpx.post(f"{url}/_sandbox/webhooks", json=hook).raise_for_status()

    def seed_contacts(self) -> None:
        for n in range(self.s.contacts):
            email = f"c{n}@convergence.example"
            values = {"first_name": f"F{n}", "last_name": f"L{n}", "phone": _phone(n)}
            made = self.api.post("/api/v1/contacts", json={"email": email, **values})
            made.raise_for_status()
            self.ids[email] = made.json()["id"]
            self.initial[email] = values
        _wait(lambda: all(len(self._live(n)) == self.s.contacts for n in CRMS), PATIENCE)
        for name in CRMS:
            for email, copies in self._live(name).items():
                self.remote[name][email] = copies[0]["_id"]

    # -- writers -------------------------------------------------------------------

    def edit(self, side: str, email: str, name: str) -> None:
        self.seq += 1
        value = _phone(10_000 + self.seq) if name == "phone" else f"{side[0]}{self.seq}"
        began = time.time()
        certain = True
        try:
            if side == "app":
                answer = self.api.patch(f"/api/v1/contacts/{self.ids[email]}", json={name: value})
                if answer.status_code == 404:
                    return
                answer.raise_for_status()
            else:
                self.sandboxes[side].user_change(
                    "contacts" if side == "hubspot" else "persons",
                    self.remote[side][email],
                    {PROPS[side][name]: _format(value, side) if name == "phone" else value},
                )
        except (KeyError, ValueError, httpx.ConnectError):
            return  # deleted there already, or the API is down (restarting): not written
        except httpx.HTTPError:
            certain = False  # the API went away mid-request (a SIGKILL): it may have landed
        self.writes.append(checker.Write(email, name, value, side, began, time.time(), certain))

    def delete(self, side: str, email: str) -> None:
        try:
            if side == "app":
                self.api.delete(f"/api/v1/contacts/{self.ids[email]}").raise_for_status()
            elif side == "hubspot":
                crm = self.sandboxes["hubspot"].crm  # type: ignore[attr-defined]
                store = crm.stores["contacts"]
                record = store.get(self.remote[side][email])
                if record is not None:
                    crm.archive(store, record, source="CRM_UI")
            else:
                company = self.sandboxes["pipedrive"].company  # type: ignore[attr-defined]
                company.delete(PERSON, self.remote[side][email], source="app")
        except (KeyError, ValueError, PipedriveError, httpx.ConnectError):
            return  # not deleted (already gone there, or the API is restarting)
        except httpx.HTTPError:
            self.unsure.add(email)  # the answer was lost: the end state tells
            return
        self.deleted.add(email)

    def edit_phase(self, kill_at: float) -> int:
        for sandbox in self.sandboxes.values():
            sandbox.faults.configure(rate=self.s.fault_rate, seed=self.s.seed)
        emails = sorted(self.ids)
        hot = emails[: max(4, len(emails) // 5)]  # most edits meet on a fifth of them
        started = time.monotonic()
        kills = tried = 0
        # on a starved machine the clock runs out before much happened: go on until the
        # scenario's edits and its kill are done
        while time.monotonic() - started < self.s.seconds or tried < self.s.min_edits or not kills:
            if not kills and time.monotonic() - started > kill_at:
                # restarted in the background: the other writers carry on meanwhile
                restart = threading.Thread(target=self.kill)
                restart.start()
                kills += 1
            pool = hot if self.rng.random() < 0.7 else emails
            live = [e for e in pool if e not in self.deleted]
            if not live:
                break
            email = self.rng.choice(live)
            side = self.rng.choice(("app", *CRMS))
            if self.rng.random() < self.s.delete_share:
                self.delete(side, email)
                other = self.rng.choice([s for s in ("app", *CRMS) if s != side])
                self.edit(other, email, self.rng.choice(checker.FIELDS))  # the racing edit
            else:
                self.edit(side, email, self.rng.choice(checker.FIELDS))
            tried += 1
            time.sleep(self.rng.expovariate(self.s.edits_per_second))
        if kills:
            restart.join()
        for sandbox in self.sandboxes.values():
            sandbox.faults.configure(rate=0.0)
        return kills

    def kill(self) -> None:
        """SIGKILL the process that pushes (SQLite: the only one) and start it again."""
        victim = self.procs[0] if self.s.backend == "sqlite" else self.procs[1]
        victim.send_signal(signal.SIGKILL)
        victim.wait()
        if self.s.backend == "sqlite":
            self.procs[0] = _spawn_api(self.url, self.port, worker=True)
        else:
            self.procs[1] = _spawn_worker(self.url)

    # -- quiescence ----------------------------------------------------------------

    def busy(self) -> int:
        with self.sessions() as session:
            jobs = session.scalar(
                select(func.count())
                .select_from(SyncJob)
                .where(SyncJob.status.in_(("pending", "running")))
            )
            # a run left "running" by a SIGKILLed worker is not work in progress
            recent = datetime.now(UTC) - timedelta(seconds=30)
            runs = session.scalar(
                select(func.count())
                .select_from(SyncRun)
                .where(
                    (SyncRun.status == "queued")
                    | ((SyncRun.status == "running") & (SyncRun.started_at > recent))
                )
            )
            events = session.scalar(
                select(func.count())
                .select_from(WebhookEvent)
                .where(WebhookEvent.processed_at.is_(None))
            )
        return int(jobs or 0) + int(runs or 0) + int(events or 0)

    def settle(self, timeout: float = PATIENCE) -> None:
        """Wait until nothing is queued or running three checks in a row."""
        quiet = 0
        deadline = time.monotonic() + timeout
        while quiet < 3 and time.monotonic() < deadline:
            quiet = quiet + 1 if not self.busy() else 0
            time.sleep(0.5)

    def full_sync(self) -> None:
        for integration in self.integrations.values():
            answer = self.api.post(
                f"/api/v1/integrations/{integration}/sync", json={"mode": "full"}
            )
            answer.raise_for_status()
        time.sleep(1.0)
        self.settle()

    def resolve_conflicts(self) -> int:
        done = 0
        while True:
            page = self.api.get("/api/v1/conflicts", params={"status": "open", "limit": 100})
            page.raise_for_status()
            items = page.json()["items"] if isinstance(page.json(), dict) else page.json()
            if not items:
                return done
            for item in items:
                choice = self.rng.choice(("local", "remote"))
                self.api.post(
                    f"/api/v1/conflicts/{item['id']}/resolve", json={"resolution": choice}
                ).raise_for_status()
                done += 1

    # -- reading the end state -----------------------------------------------------

    def _live(self, side: str) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        if side == "hubspot":
            store = self.sandboxes["hubspot"].crm.stores["contacts"]  # type: ignore[attr-defined]
            for record in list(store.records.values()):
                if record.archived or record.id in store.merged:
                    continue
                p = record.properties
                out.setdefault(str(p.get("email", "")).lower(), []).append(
                    {
                        "_id": record.id,
                        "first_name": p.get("firstname"),
                        "last_name": p.get("lastname"),
                        "phone": p.get("phone"),
                    }
                )
            return out
        company = self.sandboxes["pipedrive"].company  # type: ignore[attr-defined]
        for person in company.listing(PERSON):
            emails = person.get("emails") or []
            phones = person.get("phones") or []
            out.setdefault(str(emails[0]["value"]).lower() if emails else "", []).append(
                {
                    "_id": str(person["id"]),
                    "first_name": person.get("first_name"),
                    "last_name": person.get("last_name"),
                    "phone": phones[0]["value"] if phones else None,
                }
            )
        return out

    def report(self) -> checker.Report:
        sides = {name: self._live(name) for name in CRMS}
        by_integration = {uuid.UUID(i): n for n, i in self.integrations.items()}
        emails = {uuid.UUID(i): e for e, i in self.ids.items()}
        with self.sessions() as session:
            gone = set(
                session.scalars(select(Contact.email).where(Contact.deleted_at.is_not(None)))
            )
            app: dict[str, list[dict[str, Any]]] = {}
            for c in session.scalars(select(Contact).where(Contact.deleted_at.is_(None))):
                app.setdefault(str(c.email), []).append(
                    {"first_name": c.first_name, "last_name": c.last_name, "phone": c.phone}
                )
            conflicts = [
                {
                    "email": emails.get(c.record_id, "?"),
                    "field": c.field,
                    "side": by_integration[c.integration_id],
                    "status": c.status,
                    "local_value": c.local_value,
                    "remote_value": c.remote_value,
                }
                for c in session.scalars(select(Conflict))
            ]
            dead = session.scalar(
                select(func.count())
                .select_from(SyncJob)
                .where(SyncJob.status.in_(("dead", "failed")))
            )
        report = checker.check(
            {"app": app, **sides},
            self.deleted | (self.unsure & gone),
            set(self.ids),
            self.writes,
            conflicts,
            self.initial,
            lww=self.s.policy == "last_write_wins",
        )
        report.dead_letters = int(dead or 0)
        return report


def _phone(n: int) -> str:
    return f"(212) 736-{n % 10_000:04d}" if n < 10_000 else f"(646) 555-{n % 10_000:04d}"


def _format(phone: str, side: str) -> str:
    """CRM users type numbers their own way; HubSpot users here in E.164."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"+1{digits}" if side == "hubspot" else f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"


def _wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the initial sync did not finish")
        time.sleep(0.3)


def run(scenario: Scenario) -> checker.Report:
    with ExitStack() as stack, database(scenario.backend) as url:
        marks = [("start", time.monotonic())]
        soak = Soak(scenario, url, stack)
        soak.connect()
        marks.append(("set-up", time.monotonic()))
        soak.seed_contacts()
        marks.append(("seed", time.monotonic()))
        soak.edit_phase(kill_at=scenario.seconds / 2)
        marks.append(("edits", time.monotonic()))
        soak.settle()
        marks.append(("settle", time.monotonic()))
        soak.full_sync()
        soak.full_sync()
        if scenario.policy == "manual":
            soak.resolve_conflicts()
            soak.full_sync()
        marks.append(("full syncs", time.monotonic()))
        report = soak.report()
        report.phases = {name: round(at - marks[i][1], 1) for i, (name, at) in enumerate(marks[1:])}
        return report


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="30 contacts, 6 s of edits (SQLite, lww unless set)"
    )
    parser.add_argument("--contacts", type=int, help="contacts per run")
    parser.add_argument("--seconds", type=float, help="seconds of edits per run")
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"))
    parser.add_argument("--policy", choices=(*POLICIES, "all"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--with-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), args.with_worker)
        return 0
    contacts, seconds = (30, 6.0) if args.quick else (300, 60.0)
    contacts, seconds = args.contacts or contacts, args.seconds or seconds
    db = args.db or ("sqlite" if args.quick else "both")
    policy = args.policy or ("last_write_wins" if args.quick else "all")
    backends = ("sqlite", "postgres") if db == "both" else (db,)
    policies = POLICIES if policy == "all" else (policy,)
    failures = 0
    for backend in backends:
        for policy in policies:
            scenario = Scenario(backend, policy, contacts, seconds, seed=args.seed)
            started = time.monotonic()
            try:
                r = run(scenario)
            except Unavailable as exc:
                print(f"{backend}: skipped ({exc})")
                break
            print(
                f"{backend:<8} {policy:<15} contacts {r.contacts} writes {r.writes} "
                f"deletes {r.deletes} | divergent {r.divergent} lost {r.lost} "
                f"duplicates {r.duplicates} resurrected {r.resurrected} conflicts {r.conflicts} "
                f"(open {r.open_conflicts}, spurious {r.spurious_conflicts}) "
                f"dead letters {r.dead_letters} | {time.monotonic() - started:.0f} s"
            )
            print(f"    phases (s): {r.phases}")
            for example in r.examples:
                print(f"    {example}")
            failures += r.failures()
    print("OK: converged" if not failures else f"FAILED: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
