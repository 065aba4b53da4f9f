"""Load and abuse: mixed valid and hostile traffic from several workspaces.

    python bench/abuse.py            # 10 minutes, from bench/ (figures in RESULTS.md)
    python bench/abuse.py --quick    # 20 seconds, for CI

Serves ``crmsync serve --workers 2`` (two API processes and the sync worker) on a fresh
SQLite database (``--database-url`` for another), then runs client threads that each
pick a workspace and an action: valid writes and reads, and hostile requests (numbers
beyond 64 bits, NaN, deep nesting, NUL and lone surrogates, bodies over the limit, no
or wrong keys, another workspace's ids, out-of-range times and ids, webhook deliveries
with absurd headers for unknown integrations, CR-only CSV previews). It fails when any
answer is a 5xx, when a workspace sees another's record, when the servers' memory
grows beyond a bound after warm-up, or when a write that was accepted does not read
back afterwards.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TYPES = {
    "contacts": {"first_name": "Ab"},
    "companies": {"name": "Acme"},
    "deals": {"name": "Deal"},
    "notes": {"body": "hello"},
}
HOSTILE_BODIES = [
    b'{"first_name": "x", "custom_fields": {"n": 18446744073709551616}}',
    b'{"first_name": "x", "custom_fields": {"n": NaN}}',
    b'{"first_name": "x", "custom_fields": {"n": -Infinity}}',
    b'{"first_name": "x", "custom_fields": {"n": 1e999}}',
    b'{"first_name": "x", "custom_fields": {"d": ' + b"[" * 3000 + b"]" * 3000 + b"}}",
    b'{"first_name": "x\\u0000y"}',
    b'{"first_name": "\\ud800"}',
    b'{"first_name": "x", "engagement_score": "NaN"}',
    b'{"first_name": "x", "external_ref": ""}',
    b"{not json",
    b"[1, 2",
]


@dataclass
class Tally:
    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    accepted: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> expectation
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, what: str, answer: httpx.Response) -> None:
        with self.lock:
            self.statuses[answer.status_code] += 1
            if answer.status_code >= 500:
                self.server_errors.append(f"{what}: {answer.status_code} {answer.text[:200]}")


@dataclass
class Workspace:
    id: str
    key: str
    ids: dict[str, list[str]] = field(default_factory=dict)  # type -> ids it wrote


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc)."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total / 1024


def _setup(database_url: str, count: int) -> list[Workspace]:
    from crmsync.auth.keys import create_api_key
    from crmsync.auth.permissions import Role
    from crmsync.store.engine import make_engine, make_sessionmaker, session_scope
    from crmsync.store.migrate import upgrade
    from crmsync.workspaces import create_workspace

    upgrade(database_url)
    engine = make_engine(database_url)
    out = []
    with session_scope(make_sessionmaker(engine)) as session:
        for n in range(count):
            workspace = create_workspace(session, f"abuse-{n}")
            out.append(
                Workspace(str(workspace.id), create_api_key(session, workspace.id, Role.ADMIN)[1])
            )
    engine.dispose()
    return out


def _act(
    client: httpx.Client, rng: random.Random, me: Workspace, others: list[Workspace], tally: Tally
) -> None:
    auth = {"Authorization": f"Bearer {me.key}"}
    kind = rng.choice(list(TYPES))
    roll = rng.random()
    if roll < 0.30:  # a valid create, remembered for the read-back
        marker = {"run": uuid.uuid4().hex, "n": rng.randint(-(2**63), 2**63 - 1)}
        body = {**TYPES[kind], "custom_fields": marker}
        answer = client.post(f"/api/v1/{kind}", json=body, headers=auth)
        tally.saw("create", answer)
        if answer.status_code == 201:
            record_id = answer.json()["id"]
            with tally.lock:
                me.ids.setdefault(kind, []).append(record_id)
                tally.accepted[record_id] = {"kind": kind, "key": me.key, "custom_fields": marker}
    elif roll < 0.40:  # a valid batch
        items = [{**TYPES[kind], "external_ref": f"r{rng.randint(0, 50)}"} for _ in range(5)]
        tally.saw(
            "batch", client.post(f"/api/v1/{kind}/batch", json={"items": items}, headers=auth)
        )
    elif roll < 0.55:  # reads of its own
        answer = client.get(f"/api/v1/{kind}", params={"limit": 50}, headers=auth)
        tally.saw("list", answer)
        if answer.status_code == 200:
            theirs = {i for o in others for ids in o.ids.values() for i in ids}
            leaked = [i["id"] for i in answer.json()["items"] if i["id"] in theirs]
            if leaked:
                with tally.lock:
                    tally.leaks.append(f"list {kind} showed another workspace's {leaked[:3]}")
    elif roll < 0.65:  # another workspace's record: must be a 404
        other = rng.choice(others)
        ids = other.ids.get(kind) or []
        if ids:
            target = rng.choice(ids)
            for answer in (
                client.get(f"/api/v1/{kind}/{target}", headers=auth),
                client.patch(f"/api/v1/{kind}/{target}", json={"custom_fields": {}}, headers=auth),
            ):
                tally.saw("cross", answer)
                if answer.status_code != 404:
                    with tally.lock:
                        tally.leaks.append(f"{kind}/{target}: {answer.status_code}")
    elif roll < 0.85:  # hostile bodies, with and without a key
        body = rng.choice(HOSTILE_BODIES)
        headers = {"content-type": "application/json"}
        if rng.random() < 0.8:
            headers.update(auth)
        answer = client.post("/api/v1/contacts", content=body, headers=headers)
        tally.saw("hostile", answer)
        if answer.status_code == 201:  # only the empty external_ref is acceptable
            with tally.lock:
                tally.accepted[answer.json()["id"]] = {"kind": "contacts", "key": me.key}
    elif roll < 0.90:  # hostile parameters and paths
        url = rng.choice(
            [
                "/api/v1/contacts?updated_since=0001-01-01T00:00:00%2B14:00",
                "/api/v1/contacts?cursor=%FF%FE",
                "/api/v1/sync-jobs/18446744073709551616/replay",
                "/api/v1/contacts/not-a-uuid",
            ]
        )
        method = client.post if url.endswith("replay") else client.get
        tally.saw("params", method(url, headers=auth))
    elif roll < 0.95:  # webhook deliveries nobody could have signed, for unknown integrations
        headers = {"X-HubSpot-Request-Timestamp": "9" * 400, "X-HubSpot-Signature-v3": "x"}
        body = rng.choice([b"[", b"[" * 5000, b'[{"objectId": 1}]'])
        url = f"/api/v1/webhooks/hubspot/{uuid.uuid4()}"
        tally.saw("webhook", client.post(url, content=body, headers=headers))
    else:  # an upload to preview: CR-only lines, or over the body limit on a JSON route
        if rng.random() < 0.5:
            files = {"file": ("cr.csv", b"First Name,Email\rAna,a@example.com\r")}
            tally.saw("preview", client.post("/api/v1/imports/preview", files=files, headers=auth))
        else:
            big = b'{"first_name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
            headers = {**auth, "content-type": "application/json"}
            tally.saw("oversize", client.post("/api/v1/contacts", content=big, headers=headers))


def _read_back(base_url: str, tally: Tally) -> list[str]:
    """Every accepted create reads back, unchanged, through its own workspace's key."""
    missing = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for record_id, expected in tally.accepted.items():
            answer = client.get(
                f"/api/v1/{expected['kind']}/{record_id}",
                headers={"Authorization": f"Bearer {expected['key']}"},
            )
            if answer.status_code != 200:
                missing.append(f"{record_id}: {answer.status_code}")
            elif (
                "custom_fields" in expected
                and answer.json()["custom_fields"] != expected["custom_fields"]
            ):
                missing.append(f"{record_id}: custom_fields changed")
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 seconds, for CI")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workspaces", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    seconds = 20.0 if args.quick else args.seconds
    with tempfile.TemporaryDirectory(prefix="crmsync-abuse-") as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/abuse.db"
        workspaces = _setup(database_url, args.workspaces)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "CRMSYNC_DATABASE_URL": database_url,
            "CRMSYNC_SECRET_KEY": secrets.token_urlsafe(32),
            "CRMSYNC_DATA_DIR": f"{tmp}/data",
            "CRMSYNC_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        log = Path(tmp) / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-c", "from crmsync.cli import main; main()", "serve",
                 "--workers", "2", "--host", "127.0.0.1", "--port", str(port)],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
            try:
                _wait(base_url, server)
                tally, rss, elapsed = _run(base_url, server.pid, workspaces, seconds, args.clients)
                missing = _read_back(base_url, tally)
            finally:
                server.terminate()
                server.wait(timeout=60)
        return _report(tally, rss, elapsed, missing, args.quick)


def _wait(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"crmsync serve exited with {server.returncode}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("crmsync serve did not become ready")


def _run(
    base_url: str, pid: int, workspaces: list[Workspace], seconds: float, clients: int
) -> tuple[Tally, list[float], float]:
    tally = Tally()
    stop = time.monotonic() + seconds
    rss: list[float] = []

    def client_loop(n: int) -> None:
        rng = random.Random(n)
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while time.monotonic() < stop:
                me = workspaces[n % len(workspaces)]
                _act(client, rng, me, [w for w in workspaces if w is not me], tally)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(clients)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        rss.append(_tree_rss_mb(pid))
        time.sleep(max(0.5, seconds / 60))
    for thread in threads:
        thread.join()
    return tally, rss, time.monotonic() - start


def _report(tally: Tally, rss: list[float], elapsed: float, missing: list[str], quick: bool) -> int:
    requests = sum(tally.statuses.values())
    settled = rss[len(rss) // 4 :] or rss  # after warm-up (imports, caches, first pages)
    first, last = settled[: max(1, len(settled) // 4)], settled[-max(1, len(settled) // 4) :]
    start_mb, end_mb = sum(first) / len(first), sum(last) / len(last)
    growth = end_mb / start_mb if start_mb else 1.0
    print(f"requests {requests} in {elapsed:.0f} s ({requests / elapsed:.0f}/s)")
    print("statuses " + ", ".join(f"{s}: {c}" for s, c in sorted(tally.statuses.items())))
    print(f"accepted creates read back: {len(tally.accepted) - len(missing)}/{len(tally.accepted)}")
    print(f"memory (API processes + worker) after warm-up {start_mb:.0f} MB -> {end_mb:.0f} MB"
          f" (x{growth:.2f}), peak {max(rss):.0f} MB")  # fmt: skip
    failures = [
        *(f"5xx: {e}" for e in tally.server_errors[:10]),
        *(f"cross-workspace: {e}" for e in tally.leaks[:10]),
        *(f"not read back: {e}" for e in missing[:10]),
    ]
    if growth > (1.5 if quick else 1.2):
        failures.append(f"memory grew x{growth:.2f} after warm-up")
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
