"""Running import jobs in background threads of the API process.

The API queues a job and hands it here; a worker loop of a later release can call
``run_import`` itself instead. Threads are kept per job so a caller may wait for one.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.imports.runner import run_import
from crmsync.imports.settings import ImportSettings

log = structlog.get_logger("crmsync.imports")


class ThreadLauncher:
    def __init__(self, sessions: sessionmaker[Session], limits: ImportSettings) -> None:
        self.sessions = sessions
        self.limits = limits
        self._threads: dict[uuid.UUID, threading.Thread] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def launch(self, job_id: uuid.UUID) -> None:
        with self._lock:
            running = self._threads.get(job_id)
            if running is not None and running.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(job_id,), name=f"import-{job_id}", daemon=True
            )
            self._threads[job_id] = thread
            thread.start()

    def _run(self, job_id: uuid.UUID) -> None:
        try:
            # takeover=False: a job another process runs (fresh heartbeat) is left to it
            run_import(
                self.sessions, job_id, self._stopping.is_set, limits=self.limits, takeover=False
            )
        except Exception:
            log.exception("import run crashed", job=str(job_id))

    def join(self, job_id: uuid.UUID, timeout: float | None = None) -> None:
        """Wait for the job's thread, if there is one."""
        thread = self._threads.get(job_id)
        if thread is not None:
            thread.join(timeout)

    def join_all(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds in all for every running job's thread."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def stop(self) -> None:
        """Ask every run to stop after its current batch (they resume on the next start)."""
        self._stopping.set()


def limits_for(state: Any) -> ImportSettings:
    """Import settings of an app (``app.state``): environment, with the app's upload
    limit; built once per app, shared by the API and the web app."""
    if getattr(state, "import_settings", None) is None:
        state.import_settings = ImportSettings.from_settings(state.settings)
    limits: ImportSettings = state.import_settings
    return limits


def launcher_for(state: Any) -> ThreadLauncher:
    """The one ThreadLauncher of an app (``app.state``), made on first use."""
    if getattr(state, "import_launcher", None) is None:
        state.import_launcher = ThreadLauncher(state.sessionmaker, limits_for(state))
    launcher: ThreadLauncher = state.import_launcher
    return launcher
