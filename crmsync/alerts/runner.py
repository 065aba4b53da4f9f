"""The alert loop the worker runs: check the rules, keep the alerts, send digests."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from crmsync.alerts import mail, rules, service
from crmsync.config import Settings
from crmsync.store.engine import session_scope

log = logging.getLogger("crmsync.alerts")


class AlertMonitor:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        *,
        interval: float = 30.0,
        limits: rules.Thresholds = rules.Thresholds(),
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.interval = interval
        self.limits = limits
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check_once(self, now: datetime | None = None) -> int:
        """One check; returns how many alerts it opened."""
        now = now or datetime.now(UTC)
        with session_scope(self.sessions) as session:
            opened = service.reconcile(session, rules.detect(session, now, self.limits), now)
        with session_scope(self.sessions) as session:
            mail.send_digests(session, self.settings, now)
        return len(opened)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check_once()
            except Exception:  # the next check tries again
                log.exception("alert check failed")

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
