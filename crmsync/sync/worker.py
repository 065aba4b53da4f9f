"""The worker: threads that claim job groups, push them, and settle every job.

``crmsync worker`` runs one; ``serve`` and ``demo`` run one in-process. Any number may run
against PostgreSQL. SIGTERM (or ``stop()``) lets each thread finish the group it holds;
a worker killed outright loses nothing: its leases expire and the reaper hands its jobs
to another worker, and the pushes are idempotent upserts. Given ``keep_succeeded``, the
lease thread also deletes succeeded jobs older than that now and then (the sync log keeps
their counts), so the outbox does not grow forever.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from crmsync.connectors.errors import Action, ConnectorError
from crmsync.integrations.config import SyncConfig
from crmsync.mapping.direction import Direction
from crmsync.marketing.pushers import PUSHERS
from crmsync.marketing.schedule import JourneyRefresher
from crmsync.store.models import Integration, IntegrationStatus, SyncRun, SyncRunStatus
from crmsync.sync import health, jobs, manual, object_state, rejected
from crmsync.sync.inbound_runner import Busy, drain_webhooks, due_streams, poll_stream
from crmsync.sync.jobs import Claim, ClaimedJob
from crmsync.sync.outbound import push
from crmsync.sync.policy import (
    as_connector_error,
    on_integration_error,
    on_job_error,
    retry_policy,
)
from crmsync.sync.push_target import PushCounts, Target
from crmsync.sync.settle import Settlement

log = structlog.get_logger("crmsync.worker")

BIG = 1_000_000  # no batch_size: the provider's batch limit alone

TargetResolver = Callable[[Session, Integration], Target]


class Worker:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        resolve: TargetResolver,
        *,
        concurrency: int = 2,
        poll_interval: float = 0.5,
        lease: timedelta = jobs.DEFAULT_LEASE,
        reap_interval: float = 15.0,
        worker_id: str | None = None,
        batches_per_claim: int = 5,
        keep_succeeded: timedelta | None = None,
        purge_interval: float = 600.0,
    ) -> None:
        self.sessions = sessions
        self.resolve = resolve
        self.concurrency = concurrency
        self.poll_interval = poll_interval
        self.lease = lease
        self.reap_interval = reap_interval
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._stop = threading.Event()
        self._held: dict[int, list[int]] = {}  # thread ident -> job ids it holds
        self._held_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._batch_limits: dict[tuple[uuid.UUID, str], int] = {}
        self._batch_sizes: dict[tuple[uuid.UUID, str], int | None] = {}
        # A claim takes up to this many of the CRM's batch calls: the claim, the reads,
        # the target and the settle cost the same for 100 jobs as for 500, so a backlog
        # goes out in bigger groups (a trickle of real-time changes still goes at once).
        self.batches_per_claim = batches_per_claim
        self.keep_succeeded = keep_succeeded  # None: succeeded jobs are kept
        self.purge_interval = purge_interval
        self._journeys = JourneyRefresher()  # the journey catalogue's scheduled refresh

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        for n in range(self.concurrency):
            thread = threading.Thread(target=self._loop, name=f"sync-worker-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        for target, name in ((self._keep_leases, "sync-leases"), (self._inbound, "sync-inbound")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 30.0) -> None:
        """Let every thread finish the group it holds, then return; after ``timeout``
        seconds in all (not per thread) it returns anyway: the threads are daemons, and a
        group still held comes back by its lease."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        stuck = [thread.name for thread in self._threads if thread.is_alive()]
        if stuck:
            log.warning(
                "worker threads still busy at stop; their leases will expire", threads=stuck
            )

    def request_stop(self) -> None:
        """Ask the worker to stop (safe from a signal handler)."""
        self._stop.set()

    def run_until_stopped(self) -> None:
        self.start()
        while not self._stop.is_set():
            self._stop.wait(0.5)
        self.stop()

    # -- work --------------------------------------------------------------------------

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # keep the thread alive; the lease brings the jobs back
                log.exception("worker iteration failed")
                worked = False
            if not worked:
                self._stop.wait(self.poll_interval)

    def run_once(self) -> bool:
        """Claim and push one group of jobs; False when nothing was due."""
        with self.sessions() as session:
            claim = jobs.claim(
                session, self.worker_id, batch_limit=self._batch_limit, lease=self.lease
            )
            if claim is None:
                return False
            self._hold(claim)
            try:
                self.push_claim(session, claim)
            except Exception as error:
                # Not a CRM's answer (those are settled in push_claim): a bug, a broken
                # constraint in the settle, a lost connection. Left running, the group
                # would come back at every lease expiry forever; it spends an attempt
                # and backs off instead, and ends a dead letter. If even that cannot be
                # written, the reaper hands the jobs back (counting the attempt).
                session.rollback()
                log.exception("push failed unexpectedly", jobs=len(claim.jobs))
                self.fail_claim(session, claim, as_connector_error(error))
            finally:
                self._release()
        return True

    def push_claim(self, session: Session, claim: Claim) -> None:
        """Push one claimed group of jobs as the background does: map, push, settle the
        jobs and their Links, write the SyncRun. The caller holds the jobs' leases."""
        now = datetime.now(UTC)
        integration = session.get(Integration, claim.integration_id)
        assert integration is not None  # jobs cascade away with their integration
        config = SyncConfig.model_validate(integration.config or {})
        sync = config.sync_of(claim.object_type)
        claim, extra_jobs = self._cut(claim, sync.batch_size)
        run = _open_run(session, integration, claim.object_type, now)
        settlement = Settlement(
            self.worker_id, integration.id, integration.workspace_id, claim.object_type
        )
        for job in extra_jobs:  # beyond the type's batch_size: the next group takes them
            settlement.requeue(job, now, error=None, error_class=None, count_attempt=False)
        started = time.perf_counter()
        try:
            target = self.resolve(session, integration)
            if sync.attempts is not None:
                target = replace(target, retry=replace(target.retry, attempts=sync.attempts))
            extra = PUSHERS.get(claim.object_type)  # enrolments, timeline entries
            if extra is not None:
                counts = extra.push(session, claim, target, settlement, now)
            else:
                capabilities = target.connector.capabilities.of(claim.object_type)
                per_call = min(capabilities.batch_limit, sync.batch_size or BIG)
                self._batch_limits[(integration.id, claim.object_type)] = per_call
                self._batch_sizes[(integration.id, claim.object_type)] = sync.batch_size
                counts = push(session, claim, target, settlement, now)
            run.status = SyncRunStatus.SUCCEEDED if not counts.failed else SyncRunStatus.PARTIAL
            object_state.succeeded(
                session, integration.workspace_id, integration.id, claim.object_type
            )
        except ConnectorError as error:
            # A retry's delay counts from the failure, not from the claim: a slow
            # connector or CRM must not make a failed group due again at once.
            failed_at = datetime.now(UTC)
            counts = self._whole_batch_failed(
                session, claim, integration, settlement, error, failed_at
            )
            run.status = SyncRunStatus.FAILED
        if sync.frequency is not None and not extra_jobs:  # cut-off jobs go first
            object_state.scheduled(
                session,
                integration.workspace_id,
                integration.id,
                claim.object_type,
                sync.frequency,
                [job.id for job in claim.jobs],
                now,
            )
        rejected.log_failures(integration, claim.object_type, counts.errors)
        health.flush_quotas(session)
        _close_run(run, counts, started)
        settlement.write(session)
        log.debug(
            "pushed",
            worker=self.worker_id,
            integration=str(integration.id),
            object_type=claim.object_type,
            processed=counts.processed,
            succeeded=counts.succeeded,
        )

    def fail_claim(self, session: Session, claim: Claim, error: ConnectorError) -> None:
        """Settle a claimed group whose push or settle raised ``error`` after a rollback:
        the jobs this worker still holds spend an attempt (dead after the last), and the
        failed run is logged."""
        now = datetime.now(UTC)
        integration = session.get(Integration, claim.integration_id)
        if integration is None:  # removed meanwhile: its jobs went with it
            return
        config = SyncConfig.model_validate(integration.config or {})
        cut, extra_jobs = self._cut(claim, config.sync_of(claim.object_type).batch_size)
        still = set(jobs.held_by(session, self.worker_id, [job.id for job in claim.jobs]))
        settlement = Settlement(
            self.worker_id, integration.id, integration.workspace_id, claim.object_type
        )
        for job in extra_jobs:  # never tried: back without spending an attempt
            if job.id in still:
                settlement.requeue(job, now, error=None, error_class=None, count_attempt=False)
        held = replace(cut, jobs=[job for job in cut.jobs if job.id in still])
        if not held.jobs:  # the settle had stored every outcome before it failed
            settlement.write(session)
            return
        run = _open_run(session, integration, claim.object_type, now)
        started = time.perf_counter()
        counts = self._whole_batch_failed(session, held, integration, settlement, error, now)
        run.status = SyncRunStatus.FAILED
        rejected.log_failures(integration, claim.object_type, counts.errors)
        _close_run(run, counts, started)
        settlement.write(session)

    def _whole_batch_failed(
        self,
        session: Session,
        claim: Claim,
        integration: Integration,
        settlement: Settlement,
        error: ConnectorError,
        now: datetime,
    ) -> PushCounts:
        log.warning(
            "push failed",
            integration=str(integration.id),
            error_class=error.kind,
            error=error.message,
            jobs=len(claim.jobs),
        )
        if error.action is not Action.WAIT:  # a spent budget is waited for, not an error
            on_integration_error(integration, error, now, object_type=claim.object_type)
        held = object_state.failed(
            session, integration.workspace_id, integration.id, claim.object_type, error, now
        )
        config = SyncConfig.model_validate(integration.config or {})
        policy = replace(retry_policy(config.retry), attempts=config.attempts(claim.object_type))
        counts = PushCounts(processed=len(claim.jobs))
        for job in claim.jobs:
            if settlement.open(job):
                counts.error(job, on_job_error(settlement, job, error, policy, now, held), error)
        return counts

    def _batch_limit(self, integration_id: uuid.UUID, object_type: str) -> int:
        if object_type in PUSHERS:
            return PUSHERS[object_type].claim_limit
        size = self._batch_sizes.get((integration_id, object_type))
        if size is not None:  # the type's own batch_size: one group is one batch
            return size
        per_call = self._batch_limits.get((integration_id, object_type), 100)
        return per_call * self.batches_per_claim

    @staticmethod
    def _cut(claim: Claim, size: int | None) -> tuple[Claim, list[ClaimedJob]]:
        """The claim cut to ``size`` jobs, and the jobs cut off (a type's batch_size is
        learnt at its first group, which may have been claimed bigger)."""
        if size is None or len(claim.jobs) <= size:
            return claim, []
        return replace(claim, jobs=claim.jobs[:size]), claim.jobs[size:]

    # -- inbound -----------------------------------------------------------------------

    def run_inbound_once(self, now: datetime | None = None) -> int:
        """Drain webhook events, then run the requested and the scheduled polls that are
        due; returns how many events and polls it handled."""
        with self.sessions() as session:
            done = drain_webhooks(session, self.resolve)
            asked: set[tuple[uuid.UUID, str]] = set()
            for request_id, integration_id, object_type, kind in manual.queued_polls(session):
                asked.add((integration_id, object_type))
                integration = session.get(Integration, integration_id)
                if integration is None or integration.status != IntegrationStatus.CONNECTED:
                    manual.take_queued_poll(session, request_id)
                    continue
                result = poll_stream(
                    session,
                    integration,
                    object_type,
                    self.resolve(session, integration),
                    kind,
                    claim=functools.partial(manual.take_queued_poll, session, request_id),
                )
                if result is not None and not isinstance(result, Busy):
                    done += 1
            for integration, object_type in due_streams(session, now or datetime.now(UTC)):
                if (integration.id, object_type) in asked:
                    continue  # a requested poll covers it
                target = self.resolve(session, integration)
                result = poll_stream(session, integration, object_type, target, "incremental")
                if result is not None and not isinstance(result, Busy):
                    done += 1
            # not counted: the loop's pace is set by deliveries and polls
            self._journeys.run(session, lambda i: self.resolve(session, i).connector)
        return done

    def _inbound(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_inbound_once()
            except Exception:
                log.exception("inbound iteration failed")
                worked = 0
            if not worked:
                self._stop.wait(self.poll_interval)

    def purge_once(self, session: Session, now: datetime | None = None) -> int:
        """Delete the succeeded jobs older than ``keep_succeeded`` (none when it is None)."""
        if self.keep_succeeded is None:
            return 0
        purged = jobs.purge_succeeded(session, (now or datetime.now(UTC)) - self.keep_succeeded)
        session.commit()
        if purged:
            log.info("purged succeeded jobs", jobs=purged)
        return purged

    # -- leases ------------------------------------------------------------------------

    def _hold(self, claim: Claim) -> None:
        with self._held_lock:
            self._held[threading.get_ident()] = [j.id for j in claim.jobs]

    def _release(self) -> None:
        with self._held_lock:
            self._held.pop(threading.get_ident(), None)

    def _keep_leases(self) -> None:
        """Renew the leases of groups in flight, and reap other workers' expired ones."""
        beat = max(1.0, self.lease.total_seconds() / 3)
        last_reap = 0.0
        last_purge = -self.purge_interval  # the first beat purges
        while not self._stop.wait(beat):
            with self._held_lock:
                held = [i for ids in self._held.values() for i in ids]
            try:
                with self.sessions() as session:
                    if held:
                        jobs.heartbeat(session, self.worker_id, held, self.lease)
                    if time.monotonic() - last_reap > self.reap_interval:
                        reaped = jobs.reap_expired(session)
                        last_reap = time.monotonic()
                        if reaped:
                            log.info("reaped expired leases", jobs=reaped)
                    if time.monotonic() - last_purge > self.purge_interval:
                        self.purge_once(session)
                        last_purge = time.monotonic()
            except Exception:
                log.exception("lease upkeep failed")


def _open_run(
    session: Session, integration: Integration, object_type: str, now: datetime
) -> SyncRun:
    """The sync log's row of one pushed group (added to the session)."""
    run = SyncRun(
        workspace_id=integration.workspace_id,
        integration_id=integration.id,
        kind="realtime",
        direction=Direction.OUTBOUND,
        object_type=object_type,
        started_at=now,
    )
    session.add(run)
    return run


def _close_run(run: SyncRun, counts: PushCounts, started: float) -> None:
    run.processed, run.succeeded = counts.processed, counts.succeeded
    run.failed, run.skipped, run.errors = counts.failed, counts.skipped, counts.errors[:50]
    run.finished_at = datetime.now(UTC)
    run.duration_ms = int((time.perf_counter() - started) * 1000)
