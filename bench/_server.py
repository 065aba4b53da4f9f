"""The crmsync API served by uvicorn in its own process, so the client does not share its GIL."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import Any

STOP = "stop"


def _serve(
    database_url: str, log_path: str, conn: Connection, options: dict[str, Any], worker: bool
) -> None:
    """Child process: serve on an ephemeral port, report it, run until told to stop.

    With ``worker`` a sync worker runs in the same process, as ``crmsync serve`` runs it.
    """
    # Production logging (JSON access line per request, INFO), written to a file, not the screen.
    sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    from crmsync.config import Settings
    from crmsync.demo import ServerThread
    from crmsync.logging import configure
    from crmsync.sync.targets import targets_of
    from crmsync.sync.worker import Worker

    settings = Settings(database_url=database_url, **options)
    configure(settings.log_level, json=True)
    server = ServerThread(settings, 0)
    background = Worker(server.app.state.sessionmaker, targets_of(server.app)) if worker else None
    if background:
        background.start()
    conn.send(server.start())
    with contextlib.suppress(EOFError):  # the parent went away: stop as well
        conn.recv()
    server.stop()
    if background:
        background.stop()


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds a process has used so far (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ApiProcess:
    """``with ApiProcess(url, log) as api: api.base_url`` -- a running server, stopped after.

    Keyword ``settings`` (``mode="test"``, ...) go to the server's Settings.
    """

    def __init__(
        self,
        database_url: str,
        log_path: Path,
        *,
        worker: bool = False,
        **settings: Any,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_serve,
            args=(database_url, str(log_path), child, settings, worker),
            daemon=True,
        )
        self.log_path = log_path
        self.base_url = ""

    def __enter__(self) -> ApiProcess:
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError(f"the API server did not start; see {self.log_path}")
        self.base_url = f"http://127.0.0.1:{self._conn.recv()}"
        return self

    def cpu_seconds(self) -> float | None:
        """CPU the server process has used so far: the cost of serving, whatever the load."""
        pid = self._process.pid
        return None if pid is None else process_cpu_seconds(pid)

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self._conn.send(STOP)
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
