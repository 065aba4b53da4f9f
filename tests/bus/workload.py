"""A bus workload with duplicates and poison, a consumer killed mid-run, and the checks.

Shared by tests/bus (bounded) and bench/bus.py (full size).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from sqlalchemy import Engine, func, select

from crmsync.store.models import Event

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Workload:
    messages: list[bytes]  # in send order
    valid: dict[str, tuple[str, int]]  # message id -> (key, seq)
    poison: list[bytes] = field(default_factory=list)


def make(
    workspace_id: uuid.UUID,
    n: int,
    *,
    keys: int = 50,
    duplicates: float = 0.05,
    poison: float = 0.01,
    seed: int = 7,
) -> Workload:
    """``n`` valid events over ``keys`` leads (seq rising per lead), then repeats of
    earlier messages and unstorable ones mixed in at random later places."""
    rng = random.Random(seed)
    seqs: dict[str, int] = defaultdict(int)
    messages: list[bytes] = []
    valid: dict[str, tuple[str, int]] = {}
    for i in range(n):
        key = f"lead-{rng.randrange(keys)}"
        seqs[key] += 1
        body = {
            "id": f"ev-{i}",
            "workspace_id": str(workspace_id),
            "key": key,
            "type": "lead.status_changed",
            "data": {"key": key, "seq": seqs[key]},
        }
        messages.append(orjson.dumps(body))
        valid[f"ev-{i}"] = (key, seqs[key])
    for _ in range(int(n * duplicates)):
        original = rng.randrange(len(messages))
        messages.insert(rng.randrange(original + 1, len(messages) + 1), messages[original])
    bad: list[bytes] = []
    for j in range(int(n * poison)):
        shape = j % 4
        if shape == 0:
            bad.append(b"not json {" + str(j).encode())
        elif shape == 1:
            bad.append(orjson.dumps({"id": f"p-{j}", "workspace_id": str(workspace_id)}))
        elif shape == 2:
            bad.append(
                orjson.dumps({"id": f"p-{j}", "workspace_id": str(uuid.uuid4()), "type": "a.b"})
            )
        else:
            bad.append(orjson.dumps([j]))
    for message in bad:
        messages.insert(rng.randrange(len(messages) + 1), message)
    return Workload(messages, valid, bad)


def stored(engine: Engine, workspace_id: uuid.UUID) -> int:
    with engine.connect() as conn:
        return int(
            conn.scalar(
                select(func.count()).select_from(Event).where(Event.workspace_id == workspace_id)
            )
            or 0
        )


def check(
    engine: Engine,
    workspace_id: uuid.UUID,
    workload: Workload,
    dead: list[tuple[bytes, str]],
) -> None:
    """Every valid event stored exactly once, in its key's order; every poison message
    dead-lettered with a reason, and nothing else."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(Event.idempotency_key, Event.data)
            .where(Event.workspace_id == workspace_id)
            .order_by(Event.received_at, Event.id)
        ).all()
    keys = [r[0] for r in rows]
    assert len(keys) == len(set(keys)), "an event was stored twice"
    assert set(keys) == set(workload.valid), "stored events differ from the valid ones"
    last: dict[str, int] = {}
    for _, data in rows:
        assert data["seq"] > last.get(data["key"], 0), f"{data['key']} out of order"
        last[data["key"]] = data["seq"]
    assert {payload for payload, _ in dead} == set(workload.poison)
    assert all(reason for _, reason in dead)


@dataclass
class Consumer:
    """``crmsync consume`` in its own process, so it can be SIGKILLed."""

    args: list[str]
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self, name: str) -> None:
        command = [sys.executable, "-c", "from crmsync.cli import main; main()", "consume"]
        self.process = subprocess.Popen(
            [*command, *self.args, "--consumer", name],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> str:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            _, err = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err.decode(errors="replace")


def consumer(
    source: str, stream: str, database_url: str, *, batch_size: int, claim_idle_ms: int
) -> Consumer:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "CRMSYNC_DATABASE_URL": database_url,
        "CRMSYNC_LOG_LEVEL": "WARNING",
    }
    args = [
        "--source",
        source,
        "--stream",
        stream,
        "--batch-size",
        str(batch_size),
        "--claim-idle-ms",
        str(claim_idle_ms),
    ]
    return Consumer(args, env)


def run_killing(
    run: Consumer,
    engine: Engine,
    workspace_id: uuid.UUID,
    expected: int,
    *,
    kills: int = 2,
    timeout: float = 120,
) -> float:
    """Consume until ``expected`` events are stored, SIGKILLing the consumer each time
    another share of them is in; the seconds it took."""
    started = time.monotonic()
    say = (
        (lambda *a: print(f"{time.monotonic() - started:6.2f}", *a, flush=True))
        if os.environ.get("H27_TRACE")
        else (lambda *a: None)
    )
    run.start("c0")
    for k in range(1, kills + 1):
        _wait(lambda k=k: stored(engine, workspace_id) >= expected * k // (kills + 1), timeout, run)
        say("kill at", stored(engine, workspace_id))
        run.kill()
        run.start(f"c{k}")
        say("started")
    _wait(lambda: stored(engine, workspace_id) >= expected, timeout, run)
    return time.monotonic() - started


def _wait(done: object, timeout: float, run: Consumer) -> None:
    deadline = time.monotonic() + timeout
    while not done():  # type: ignore[operator]
        assert run.process is not None
        if run.process.poll() is not None:
            raise AssertionError(f"consumer exited: {run.stop()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; consumer said: {run.stop()}")
        time.sleep(0.02)
