"""The delivery loop the worker runs: fan out, claim, send concurrently, settle.

Sends go out on a pool of threads sharing one HTTP transport (keep-alive per endpoint);
each endpoint URL passes the SSRF guard once per round; the store is touched in three
short transactions per round, so a slow endpoint holds no database lock.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from crmsync.config import Settings
from crmsync.integrations.keys import vault_for
from crmsync.integrations.vault import Vault
from crmsync.outbound.webhooks import delivery
from crmsync.outbound.webhooks.fanout import fan_out
from crmsync.outbound.webhooks.schedule import DEFAULT, Schedule
from crmsync.store.engine import session_scope

log = logging.getLogger("crmsync.webhooks")
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Deliverer:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        vault: Vault,
        *,
        sandbox_mode: bool = False,
        schedule: Schedule = DEFAULT,
        threads: int = 8,
        batch: int = 500,
        poll_interval: float = 0.2,
        lease: timedelta = delivery.LEASE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.sessions = sessions
        self.vault = vault
        self.sandbox_mode = sandbox_mode
        self.schedule = schedule
        self.batch = batch
        self.poll_interval = poll_interval
        self.lease = lease
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="webhook-send")
        # Requests go straight to the transport (keep-alive per endpoint): no redirects (an
        # endpoint answers itself, and a redirect could leave the guard), no cookies, no
        # proxies from the environment, and none of a client's per-request work.
        self._transport = transport or httpx.HTTPTransport(
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=threads),
            trust_env=False,
        )
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self, now: datetime | None = None) -> int:
        """One round; returns how many deliveries were sent."""
        now = now or datetime.now(UTC)
        with session_scope(self.sessions) as session:
            fan_out(session, now)
        with session_scope(self.sessions) as session:
            outgoing = delivery.claim(session, self.vault, self.batch, now, self.lease)
        if not outgoing:
            return 0
        refused = delivery.refusals(outgoing, sandbox_mode=self.sandbox_mode)
        outcomes = list(
            self._pool.map(
                lambda o: delivery.send(self._transport, o, refused=refused, timeout=TIMEOUT),
                outgoing,
            )
        )
        with session_scope(self.sessions) as session:
            disabled = delivery.settle(session, outcomes, datetime.now(UTC), self.schedule)
        for endpoint_id in disabled:
            log.warning("webhook endpoint %s disabled after persistent failure", endpoint_id)
        return len(outgoing)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                sent = self.run_once()
            except Exception:  # keep delivering; the round is retried
                log.exception("webhook delivery round failed")
                sent = 0
            if not sent:
                self._stop.wait(self.poll_interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="webhook-deliverer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        self._transport.close()


def deliverer_for(sessions: sessionmaker[Session], settings: Settings) -> Deliverer:
    """The deliverer a worker runs, with the settings' vault and sandbox mode."""
    return Deliverer(sessions, vault_for(settings), sandbox_mode=settings.sandbox_mode)
